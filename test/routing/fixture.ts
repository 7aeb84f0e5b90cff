// A real nginx routing to two real color backends, set up in any switching mode the way the
// program sets up a server: a validated config whose colors' host ports are the backends
// and whose nginx is the test's, and the steps of the program's rollout plan run as planned
// (lib/plan/rollout.ts, harness/planned.ts): the server's Routing steps before its routes
// (init-routes.sh in reload mode, upstreams.conf, router.conf in state and lua mode,
// site.conf), then its route-passive and route-live steps.
//
// A test then publishes any route (a canary share, a salt, a sticky cookie) with the
// command of the plan's route-live / route-passive step and the mode's renderer for that
// route, which is what the plan's step carries for the release that routes so.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AppConfig, Color, PortalConfig, SplitMode } from "../../lib/config/config";
import { liveRoute, passiveRoute, type LiveRoute, type PassiveRoute } from "../../lib/model/rollout";
import { validateConfig } from "../../lib/config/config";
import { routeMode } from "../../lib/nginx/routeModes";
import { stepOf } from "../../lib/plan/plan";
import { planRollout } from "../../lib/plan/rollout";
import { tracksOf } from "../../lib/model/tracks";
import { plannedCommand, stepsBefore } from "../../harness/planned";
import { startColorBackends, type ColorBackend } from "../../harness/backends";
import { freePort } from "../../harness/http";
import { startNginx, type NginxInstance } from "../../harness/nginx";
import * as cmd from "../../lib/server/commands";
import { ROUTE_MODE_NAMES, type RouteModeName } from "../../lib/nginx/routeModes";
import { REPO_ROOT, describeResult, runCommand, runScript } from "../../harness/run";

export type Mode = RouteModeName;
/** Every switching mode the program has (lib/nginx/routeModes.ts): a new one runs every routing test. */
export const MODES: readonly Mode[] = ROUTE_MODE_NAMES;

export const COOKIE = "portal_client";

/** The app block of a stack whose color host ports are the test backends. */
export function appConfig(blue: ColorBackend, green: ColorBackend): AppConfig {
    return {
        port: 8080,
        healthPath: "/health",
        hostPorts: { blue: blue.port, green: green.port },
        upstreamHost: "127.0.0.1",
        bindAddress: "127.0.0.1",
        env: {},
        migrate: [],
        healthTimeoutSeconds: 30,
        stopGraceSeconds: 30,
    };
}

/** The only parts of a PortalConfig that liveRoute/passiveRoute read. */
function releaseConfig(live: Color, passive: Color, canary: number, mode: SplitMode): PortalConfig {
    return {
        release: { tags: { blue: "v1", green: "v2" }, live, passive, canary },
        nginx: { canary: { mode, cookie: COOKIE } },
    } as unknown as PortalConfig;
}

/** The live route of a release: `live` with `canary` percent to `passive` (0: no canary), as lib/model/rollout.ts derives it. */
export function live(color: Color, canary = 0, mode: SplitMode = "request", passive: Color = color === "blue" ? "green" : "blue"): LiveRoute {
    return liveRoute(releaseConfig(color, passive, canary, mode));
}

export function passive(color: Color): PassiveRoute {
    return passiveRoute(releaseConfig(color, color, 0, "request"));
}

export interface RoutingSetup {
    mode: Mode;
    nginx: NginxInstance;
    /** The $portal_live listener and the $portal_passive listener (renderSite). */
    liveUrl: string;
    passiveUrl: string;
    /** live.conf / passive.conf (reload) or live.state / passive.state (state). */
    liveFile: string;
    passiveFile: string;
    /** Reloads (SIGHUP) once the setup was complete. */
    reloadsAtStart: number;
    /** Publish a live route with the mode's script; asserts success (and, in reload mode, waits until the old worker is gone). */
    setLive(route: LiveRoute): Promise<void>;
    setPassive(route: PassiveRoute): Promise<void>;
    /** Route files in the portal dir, sorted (temp files included: they start with a dot). */
    portalEntries(): string[];
    stop(): Promise<void>;
}

export interface RoutingOptions {
    live?: LiveRoute;
    /** null: publish no passive route at all (state mode: no passive.state). */
    passive?: PassiveRoute | null;
    /** Extra http-level nginx config (e.g. a trap upstream). */
    httpExtra?: string;
}

/**
 * switch-route.sh as the program runs it: on exit 0 the new workers serve, so no wait
 * follows (the tests' next request on a fresh connection is the check).
 */
export async function switchRoute(nginx: NginxInstance, target: string, content: string) {
    return runCommand(cmd.switchRoute(REPO_ROOT, target, nginx.control), { input: content });
}

export async function switchState(target: string, content: string) {
    return runScript("switch-state.sh", [target], { input: content, timeoutMs: 15_000 });
}

/** The fixture's one server. */
const HOST = "web1";

export async function startRouting(mode: Mode, blue: ColorBackend, green: ColorBackend, opts: RoutingOptions = {}): Promise<RoutingSetup> {
    const site = { address: "127.0.0.1", live: await freePort(), passive: await freePort() };
    const liveRouteInit = opts.live ?? live("blue");
    const passiveRouteInit = opts.passive === undefined ? passive("blue") : opts.passive;
    const nginx = await startNginx({
        portalFiles: {},
        // The instance's own port only answers the readiness probe; traffic goes to the site.
        serverBody: 'location / { return 200 "nginx\\n"; }',
        njs: mode === "state",
        lua: mode === "lua",
        httpExtra: opts.httpExtra,
    });
    const dir = nginx.portalDir;
    const app = appConfig(blue, green);
    const config = validateConfig({
        image: "portal-fixture",
        release: { tags: { blue: "v1", green: "v2" }, live: "blue", passive: "blue", canary: 0 },
        servers: [{ name: HOST, host: "127.0.0.1", primary: true }],
        app: { port: app.port, healthPath: app.healthPath, hostPorts: app.hostPorts, upstreamHost: app.upstreamHost },
        nginx: { mode, confDir: dir, ...nginx.control, canary: { mode: "request", cookie: COOKIE }, site },
        // Scripts (and so the routers) come from this repository.
        dir: REPO_ROOT,
        target: "ssh",
    });
    const plan = planRollout(config, { stack: "test", notices: false });
    const track = tracksOf(config)[0]!;
    const must = async (command: { argv: readonly string[] }, content: string | undefined, what: string) => {
        const r = await runCommand(command, { input: content });
        assert.equal(r.code, 0, `${what}: ${describeResult(r)}`);
    };
    const routeStep = (id: string) => stepOf(plan, `${HOST}-${id}`, "command");
    const liveFile = routeStep("route-live").publishes!;
    const passiveFile = routeStep("route-passive").publishes!;
    assert.equal(path.dirname(liveFile), dir);
    const setLive = async (route: LiveRoute) => {
        const rendered = routeMode(mode).live(route, track);
        assert.equal(path.join(dir, rendered.file), liveFile);
        await must(plannedCommand(config, routeStep("route-live")).command, rendered.content, "route-live");
    };
    const setPassive = async (route: PassiveRoute) => {
        const rendered = routeMode(mode).passive(route, track);
        assert.equal(path.join(dir, rendered.file), passiveFile);
        await must(plannedCommand(config, routeStep("route-passive")).command, rendered.content, "route-passive");
    };

    try {
        for (const step of stepsBefore(plan, `${HOST}-routing`, `${HOST}-route-passive`)) {
            const p = plannedCommand(config, step);
            await must(p.command, p.stdin, step.id);
        }
        if (passiveRouteInit) await setPassive(passiveRouteInit);
        await setLive(liveRouteInit);
    } catch (err) {
        await nginx.stop();
        throw err;
    }
    return {
        mode,
        nginx,
        liveUrl: `http://127.0.0.1:${site.live}/`,
        passiveUrl: `http://127.0.0.1:${site.passive}/`,
        liveFile,
        passiveFile,
        reloadsAtStart: nginx.reconfigurations(),
        setLive,
        setPassive,
        portalEntries: () => fs.readdirSync(dir).sort(),
        stop: () => nginx.stop(),
    };
}

export interface Reply {
    status: number;
    body: string;
    /** First word of the body: the color that answered. */
    color: string;
}

/** One GET (keep-alive through `agent` when given, else a fresh connection), with an optional Cookie header. */
export function get(url: string, opts: { cookie?: string; agent?: http.Agent; timeoutMs?: number } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const headers: http.OutgoingHttpHeaders = opts.cookie === undefined ? {} : { cookie: opts.cookie };
        const req = http.get(url, { agent: opts.agent ?? false, headers, timeout: opts.timeoutMs ?? 5000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body, color: body.split(/\s/)[0] ?? "" }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
        req.on("error", reject);
    });
}

/** Run `fn` over `items` with at most `lanes` at a time; each lane has its own keep-alive connection. */
export async function inLanes<T, R>(items: readonly T[], lanes: number, fn: (item: T, agent: http.Agent) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const lane = async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
            while (next < items.length) {
                const i = next++;
                results[i] = await fn(items[i] as T, agent);
            }
        } finally {
            agent.destroy();
        }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
    return results;
}

/** Worker crashes or njs exceptions in the error log (a missing state file is logged as an [error], not this). */
export function crashes(nginx: NginxInstance): string[] {
    const log = fs.readFileSync(nginx.errorLog, "utf8");
    return log.split("\n").filter((l) => /exited on signal|\[alert\]|\[emerg\]|\[crit\]|js exception|lua entry thread aborted|runtime error/i.test(l));
}

/** nginx's ngx_murmur_hash2 (split_clients hashes its key with it), over the key's bytes. */
export function murmurHash2(key: string): number {
    const data = Buffer.from(key, "utf8");
    const m = 0x5bd1e995;
    let len = data.length;
    let h = len >>> 0;
    let i = 0;
    while (len >= 4) {
        let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
        k = Math.imul(k, m) >>> 0;
        k = (k ^ (k >>> 24)) >>> 0;
        k = Math.imul(k, m) >>> 0;
        h = Math.imul(h, m) >>> 0;
        h = (h ^ k) >>> 0;
        i += 4;
        len -= 4;
    }
    if (len >= 3) h = (h ^ (data[i + 2]! << 16)) >>> 0;
    if (len >= 2) h = (h ^ (data[i + 1]! << 8)) >>> 0;
    if (len >= 1) {
        h = (h ^ data[i]!) >>> 0;
        h = Math.imul(h, m) >>> 0;
    }
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, m) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    return h;
}

/** 32-bit FNV-1a over the key's bytes (the state-mode router's sticky hash, for ASCII keys). */
export function fnv1a(key: string): number {
    let h = 0x811c9dc5;
    for (const byte of Buffer.from(key, "utf8")) {
        h = Math.imul((h ^ byte) >>> 0, 0x01000193) >>> 0;
    }
    return h;
}

/**
 * Whether a sticky key goes to the canary side at `percent`, computed independently of nginx:
 * reload mode: split_clients puts hash < floor(basis points * 0xffffffff / 10000) on the first
 * (canary) line; state mode: the router sends bucket = FNV-1a % 10000 < basis points to the canary.
 */
export function predictedCanary(mode: Mode, key: string, percent: number): boolean {
    const bp = Math.round(percent * 100);
    if (mode === "reload") return murmurHash2(key) < Math.floor((bp * 0xffffffff) / 10000);
    return fnv1a(key) % 10000 < bp;
}

/** The canary share (percent, two decimals) at which `key` just starts going to the canary side. */
export function firstCanaryPercent(mode: Mode, key: string): number {
    for (let bp = 1; bp <= 10000; bp++) if (predictedCanary(mode, key, bp / 100)) return bp / 100;
    return 100;
}

export interface RoutingSuite {
    blue: ColorBackend;
    green: ColorBackend;
    routing: RoutingSetup;
}

/**
 * For the enclosing mocha describe: blue and green backends and a routed nginx in `mode`,
 * started before its tests and stopped after them. The fields are set by the before hook.
 */
export function routingForSuite(mode: Mode, opts: RoutingOptions = {}): RoutingSuite {
    const suite = {} as RoutingSuite;
    before(async function () {
        ({ blue: suite.blue, green: suite.green } = await startColorBackends());
        suite.routing = await startRouting(mode, suite.blue, suite.green, opts);
    });
    after(async function () {
        await suite.routing?.stop();
        await suite.blue?.close();
        await suite.green?.close();
    });
    return suite;
}
