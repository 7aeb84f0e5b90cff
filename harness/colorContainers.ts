// Color containers of the local test image (portal-test:busybox) for the drills and the
// drill benchmark: busybox httpd answering "<color> <version>" on `/` and on the health
// path, published on 127.0.0.1:<hostPort> like the program's color containers. Variants
// that never become healthy (health path 404, or nothing listening) drive the failure drills.

import { docker, ensureTestImage, FAST_IMAGE, TEST_IMAGE } from "./docker";
import { freePort, httpGet } from "./http";
import { sleep } from "./run";

/** The port busybox httpd listens on inside the container (app.port). */
export const APP_PORT = 8000;
/** The health path every color serves (app.healthPath). */
export const HEALTH_PATH = "/health";
/** Label put on every container started here, so a crashed run can be cleaned up. */
export const LABEL = "portal.drill";

/** healthy: 200 on / and HEALTH_PATH; health-404: 200 on / but 404 on HEALTH_PATH; never-listens: no server at all. */
export type Health = "healthy" | "health-404" | "never-listens";

export interface ColorContainerSpec {
    /** Docker container name (unique per run: include the pid). */
    name: string;
    /** Host port on 127.0.0.1. */
    hostPort: number;
    color: string;
    version: string;
    health?: Health;
    /** Value of the portal.drill label (default: this process's pid). */
    owner?: string;
    /**
     * busybox (default): busybox httpd in portal-test:busybox, one fork per connection (a few
     * hundred requests a second); nginx: the host's nginx in portal-test:nginx
     * (test/fixtures/build-fast-image.sh), fast enough that a benchmark measures the proxy.
     */
    app?: "busybox" | "nginx";
}

/** The body every path answers: "<color> <version>\n" (the load generator reads the first word). */
export function colorBody(color: string, version: string): string {
    return `${color} ${version}\n`;
}

/** The container's command: `sh -c '...'` writing the pages, then busybox httpd in the foreground. */
export function colorCommand(spec: Pick<ColorContainerSpec, "color" | "version" | "health" | "app">): string[] {
    if (!/^[a-z0-9]+$/.test(spec.color) || !/^[A-Za-z0-9._-]+$/.test(spec.version)) {
        throw new Error(`color/version must be plain words: ${spec.color} ${spec.version}`);
    }
    if (spec.app === "nginx") return nginxColorCommand(spec);
    const page = `mkdir -p /www && echo "${spec.color} ${spec.version}" > /www/index.html`;
    switch (spec.health ?? "healthy") {
        case "healthy":
            return ["sh", "-c", `${page} && cp /www/index.html /www${HEALTH_PATH} && exec httpd -f -p ${APP_PORT} -h /www`];
        case "health-404":
            return ["sh", "-c", `${page} && exec httpd -f -p ${APP_PORT} -h /www`];
        case "never-listens":
            // Bounded: exits by itself after 10 minutes if nobody removes it.
            return ["sh", "-c", `${page} && exec sleep 600`];
    }
}

/** The fast app: nginx answering "<color> <version>" on every path (health-404: 404 on the health path). */
function nginxColorCommand(spec: Pick<ColorContainerSpec, "color" | "version" | "health">): string[] {
    const health = spec.health ?? "healthy";
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path /tmp/n/${t};`).join(" ");
    const notHealthy = health === "health-404" ? `location = ${HEALTH_PATH} { return 404; } ` : "";
    const conf =
        `user root; daemon off; worker_processes 1; pid /tmp/n/nginx.pid; error_log stderr notice; events { worker_connections 1024; } ` +
        `http { access_log off; keepalive_requests 1000000; keepalive_timeout 300s; ${temp} ` +
        `server { listen ${APP_PORT}; ${notHealthy}location / { return 200 "${spec.color} ${spec.version}\n"; } } }`;
    const write = `mkdir -p /tmp/n && printf '%s\n' '${conf}' > /tmp/n/nginx.conf`;
    if (health === "never-listens") return ["sh", "-c", `${write} && exec sleep 600`];
    return ["sh", "-c", `${write} && exec nginx -e stderr -c /tmp/n/nginx.conf`];
}

/** `docker run` argv (without the leading "docker") for a color container. */
export function colorRunArgs(spec: ColorContainerSpec): string[] {
    return [
        "run", "-d",
        "--name", spec.name,
        "--label", `${LABEL}=${spec.owner ?? String(process.pid)}`,
        "-p", `127.0.0.1:${spec.hostPort}:${APP_PORT}`,
        spec.app === "nginx" ? FAST_IMAGE : TEST_IMAGE,
        ...colorCommand(spec),
    ];
}

/** Removes the container if it exists (SIGKILL, like `docker rm -f`). */
export async function removeColorContainer(name: string): Promise<void> {
    await docker(["rm", "-f", name]);
}

/**
 * Replaces a color's container the way the program's prepare step does: docker rm, then
 * docker run of the new version on the same host port. Resolves once `docker run` returns
 * (the container is started, not necessarily answering yet).
 */
export async function replaceColorContainer(spec: ColorContainerSpec): Promise<void> {
    await removeColorContainer(spec.name);
    const r = await docker(colorRunArgs(spec), 60_000);
    if (r.code !== 0) {
        throw new Error(`docker run ${spec.name} failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
}

/** Polls http://127.0.0.1:<hostPort><path> until it answers 200 with `body`. */
export async function waitForColor(hostPort: number, body: string, opts: { path?: string; timeoutMs?: number } = {}): Promise<void> {
    const url = `http://127.0.0.1:${hostPort}${opts.path ?? "/"}`;
    const until = Date.now() + (opts.timeoutMs ?? 20_000);
    let last = "";
    for (;;) {
        try {
            const r = await httpGet(url, 1000);
            if (r.status === 200 && r.body === body) return;
            last = `${r.status} ${JSON.stringify(r.body)}`;
        } catch (err) {
            last = String(err);
        }
        if (Date.now() > until) throw new Error(`${url} never answered ${JSON.stringify(body)}; last: ${last}`);
        await sleep(50);
    }
}

/** Starts (replacing any previous one) a color container and waits until it serves its body. */
export async function startColorContainer(spec: ColorContainerSpec, timeoutMs = 20_000): Promise<void> {
    await replaceColorContainer(spec);
    if ((spec.health ?? "healthy") !== "never-listens") {
        await waitForColor(spec.hostPort, colorBody(spec.color, spec.version), { timeoutMs });
    }
}

/** Removes every container this process (or `owner`) started. */
export async function removeOwnedContainers(owner = String(process.pid)): Promise<void> {
    const ps = await docker(["ps", "-aq", "--filter", `label=${LABEL}=${owner}`]);
    const ids = ps.stdout.split(/\s+/).filter(Boolean);
    if (ids.length > 0) await docker(["rm", "-f", ...ids]);
}

/** Starts a color container on a free host port, picking another if docker finds it taken; returns the port. */
export async function startOnFreePort(spec: Omit<ColorContainerSpec, "hostPort">): Promise<number> {
    for (let attempt = 1; ; attempt++) {
        const hostPort = await freePort();
        try {
            await startColorContainer({ ...spec, hostPort });
            return hostPort;
        } catch (err) {
            if (attempt >= 5 || !/port is already allocated|address already in use/i.test(String(err))) throw err;
        }
    }
}

export interface SuiteColors {
    names: { blue: string; green: string };
    /** Filled by the suite's before hook. */
    hostPorts: { blue: number; green: number };
}

/**
 * For the enclosing mocha describe: a blue and a green container of the test image on free
 * loopback ports, started before its tests and removed after them.
 */
export function colorContainersForSuite(tag: string, versions: { blue: string; green: string } = { blue: "v1", green: "v2" }): SuiteColors {
    const suite: SuiteColors = { names: { blue: `${tag}-blue`, green: `${tag}-green` }, hostPorts: { blue: 0, green: 0 } };
    before(async function () {
        await ensureTestImage();
        await Promise.all(
            (["blue", "green"] as const).map(async (color) => {
                suite.hostPorts[color] = await startOnFreePort({ name: suite.names[color], color, version: versions[color] });
            }),
        );
    });
    after(async function () {
        await Promise.all(Object.values(suite.names).map((n) => removeColorContainer(n)));
    });
    return suite;
}
