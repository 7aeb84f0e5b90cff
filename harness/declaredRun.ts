// Plays what the program declares for a server against a real server, the way `pulumi up`
// would: the resources that are new or whose inputs changed since the previous evaluation,
// in the program's dependency order (dependsOn, plus a container's implicit dependency on
// its image). Remote commands run their exact create text with their exact stdin over ssh;
// the upload runs scp; docker resources go through the docker CLI over
// DOCKER_HOST=ssh://… (`docker system dial-stdio`), the transport the docker provider uses.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { DeclaredResource, Evaluation } from "../offline/evaluate";
import { REPO_ROOT, run, type RunResult } from "./run";
import type { SshServer } from "./sshd";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The plain value of a mock input (secrets come wrapped with Pulumi's secret signature). */
export function plain(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (SECRET_SIG in o) return plain(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

export interface StepRecord {
    name: string;
    type: string;
    /** What was run: the command text, or the docker/scp argv. */
    what: string;
    ms: number;
    code: number | null;
    stdout: string;
    stderr: string;
}

/** The image id the mock provider gave an image resource: a container's `image` input is that Output. */
const imageId = (r: DeclaredResource) => String(r.outputs.imageId);

/** Resources to create or update, in an order where each comes after everything it waits for. */
export function plannedSteps(before: Evaluation | undefined, after: Evaluation): DeclaredResource[] {
    const all = [...after.resources.values()];
    const byUrn = new Map(all.map((r) => [r.urn, r]));
    const images = new Map(all.filter((r) => r.type === "docker:index/remoteImage:RemoteImage").map((r) => [imageId(r), r.urn]));
    const deps = (r: DeclaredResource) => {
        const d = [...r.dependsOn];
        if (r.type === "docker:index/container:Container") d.push(images.get(String(r.inputs.image))!);
        return d.filter((u) => byUrn.has(u));
    };
    const changed = (r: DeclaredResource) => {
        const old = before?.resources.get(r.urn);
        return !old || !isDeepStrictEqual(old.inputs, r.inputs);
    };
    const order: DeclaredResource[] = [];
    const done = new Set<string>();
    const visit = (r: DeclaredResource) => {
        if (done.has(r.urn)) return;
        done.add(r.urn);
        for (const d of deps(r)) visit(byUrn.get(d)!);
        order.push(r);
    };
    all.forEach(visit);
    return order.filter((r) => changed(r) && RUNNABLE.has(r.type));
}

const RUNNABLE = new Set([
    "command:remote:Command",
    "command:remote:CopyToRemote",
    "docker:index/remoteImage:RemoteImage",
    "docker:index/container:Container",
]);

/** docker run argv for a declared container (env from `envFile`); refuses inputs it does not know how to map. */
export function dockerRunArgs(r: DeclaredResource, imageName: string, envFile: string): string[] {
    const i = plain(r.inputs) as Record<string, unknown>;
    const known = new Set(["name", "image", "ports", "envs", "labels", "restart", "command", "mustRun", "removeVolumes", "destroyGraceSeconds"]);
    for (const key of Object.keys(i)) if (!known.has(key)) throw new Error(`${r.name}: container input ${key} is not mapped to docker run by the ssh suite`);
    const args = ["run", "-d", "--name", String(i.name)];
    if (i.restart) args.push("--restart", String(i.restart));
    for (const p of (i.ports as { internal: number; external: number; ip?: string }[] | undefined) ?? []) {
        args.push("-p", `${p.ip ? `${p.ip}:` : ""}${p.external}:${p.internal}`);
    }
    // The provider sends env through the API; here a 0600 file keeps it off the argv.
    fs.writeFileSync(envFile, ((i.envs as string[] | undefined) ?? []).map((e) => `${e}\n`).join(""), { mode: 0o600 });
    args.push("--env-file", envFile);
    for (const l of (i.labels as { label: string; value: string }[] | undefined) ?? []) args.push("--label", `${l.label}=${l.value}`);
    args.push("--", imageName, ...((i.command as string[] | undefined) ?? []));
    return args;
}

/** Runs `steps` on `server`; stops at the first failure (like the engine, for the dependents). Returns every record. */
export async function runSteps(
    server: SshServer,
    before: Evaluation | undefined,
    after: Evaluation,
    steps: DeclaredResource[],
    log: StepRecord[],
): Promise<StepRecord | undefined> {
    const imageNames = new Map(
        [...after.resources.values()].filter((r) => r.type === "docker:index/remoteImage:RemoteImage").map((r) => [imageId(r), String(r.inputs.name)]),
    );
    const docker = (args: string[]) => run("docker", args, { env: server.dockerEnv(), timeoutMs: 60_000 });
    for (const r of steps) {
        let what: string;
        let result: RunResult;
        const inputs = plain(r.inputs) as Record<string, unknown>;
        switch (r.type) {
            case "command:remote:Command": {
                what = String(inputs.create);
                result = await server.exec(what, inputs.stdin === undefined ? undefined : String(inputs.stdin));
                break;
            }
            case "command:remote:CopyToRemote": {
                // host.ts uploads FileArchive("scripts"); mocks do not keep the archive's path.
                const source = path.join(REPO_ROOT, "scripts");
                what = `scp -r scripts 127.0.0.1:${String(inputs.remotePath)}/`;
                result = await server.copy(source, String(inputs.remotePath));
                break;
            }
            case "docker:index/remoteImage:RemoteImage": {
                // The image is in the server's engine already (no registry here): the provider
                // pulls only a missing image; inspect proves it is there for the containers.
                what = `docker image inspect ${String(inputs.name)}`;
                result = await docker(["image", "inspect", "--format", "{{.Id}}", String(inputs.name)]);
                break;
            }
            case "docker:index/container:Container": {
                const envFile = path.join(os.tmpdir(), `portal-ssh-env-${process.pid}-${String(inputs.name)}`);
                const args = dockerRunArgs(r, imageNames.get(String(inputs.image))!, envFile);
                // A replaced container keeps its fixed name: the old one goes first.
                if (before?.resources.has(r.urn)) await docker(["rm", "-f", String(plain(before.resources.get(r.urn)!.inputs.name))]);
                what = `docker ${args.join(" ")}`;
                try {
                    result = await docker(args);
                } finally {
                    fs.rmSync(envFile, { force: true });
                }
                break;
            }
            default:
                throw new Error(`cannot run ${r.type}`);
        }
        const record = { name: r.name, type: r.type, what, ms: result.ms, code: result.code, stdout: result.stdout, stderr: result.stderr };
        log.push(record);
        if (result.code !== 0) return record;
    }
    return undefined;
}
