// Tracks and the edge on a real nginx, set up the way the program sets up a host: a
// validated PortalConfig (the production stack with a py3 track and an edge, its hosts and
// ports moved to loopback), and every nginx step taken from the program's rollout plan
// (lib/plan/rollout.ts) by its id and run with its own command line and stdin, which run
// this repository's scripts/ (the config's dir is this repository).
//
// nginx starts with no portal file; then, in plan order:
//   edge:    lb1's steps before its split (init-routes.sh CONF_DIR edge in reload mode,
//            edge-upstreams.conf, router.conf in state and lua mode, edge-site.conf), then
//            lb1-edge-route for each split;
//   server:  per track, the Routing component's steps before its passive route
//            (init-routes.sh in reload mode, the static files), then its passive and live routes.
//
// The edge's "servers" are two loopback addresses, 127.0.0.1 and 127.0.0.2: on each, one
// backend per track listens on that track's live listener port (the same port on both
// addresses, as on real servers), so renderEdgeUpstreams' `server <host>:<port>` lines are
// the real ones and the edge upstream really spreads over two servers.
import assert from "node:assert/strict";
import { validateConfig, type PortalConfig, type RawConfig, type SplitMode } from "../../lib/config/config";
import { routeMode, type RouteFile } from "../../lib/nginx/routeModes";
import { runPlannedStep, stepsBefore } from "../../harness/planned";
import { planRollout } from "../../lib/plan/rollout";
import { stepOf, type RolloutPlan } from "../../lib/plan/plan";
import { tracksOf, type Track } from "../../lib/model/tracks";
import { startColorBackend, type ColorBackend } from "../../harness/backends";
import { freePort } from "../../harness/http";
import { startNginx, type NginxInstance } from "../../harness/nginx";
import { REPO_ROOT, describeResult, runCommand, type RunResult } from "../../harness/run";
import { productionWithSite, withTracks } from "../support/stacks";
import { COOKIE, type Mode } from "./fixture";

export const PY3 = "py3";
/** The edge host's name in the config. */
export const EDGE_HOST = "lb1";
export const MAIN = "main";
/** The two "servers" behind the edge. */
export const SERVER_HOSTS = ["127.0.0.1", "127.0.0.2"] as const;

/** The production stack with the py3 track and an edge, as validateConfig returns it. */
export function baseRaw(): RawConfig {
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(withTracks(productionWithSite()))) raw[key.replace(/^portal:/, "")] = structuredClone(value);
    return raw;
}

/** Point the config's nginx commands and conf dir at the test nginx. */
export function attach(config: PortalConfig, nginx: NginxInstance): void {
    config.nginx.confDir = nginx.portalDir;
    Object.assign(config.nginx, nginx.control);
}

/** The program's plan for `config` (no notices: the fixtures post none). */
export function planOf(config: PortalConfig): RolloutPlan {
    return planRollout(config, { stack: "test", notices: false });
}

/** Runs the plan's step `id` for `config` as the program runs it; asserts it exits 0. */
export async function runPlanned(config: PortalConfig, id: string, plan = planOf(config)): Promise<void> {
    const r = await runPlannedStep(config, plan, id);
    assert.equal(r.code, 0, `${id}: ${describeResult(r)}`);
}

/** Runs what a fresh host runs under `component` before its step `until` (harness/planned.ts stepsBefore); returns their ids. */
export async function runPlannedSetup(config: PortalConfig, component: string, until: string): Promise<string[]> {
    const plan = planOf(config);
    const ids = stepsBefore(plan, component, until).map((s) => s.id);
    for (const id of ids) await runPlanned(config, id, plan);
    return ids;
}

/** Publish a live or passive route file with the mode's command (a route the plan would not publish). */
export async function publishRoute(config: PortalConfig, { file, content }: RouteFile): Promise<RunResult> {
    return runCommand(routeMode(config.nginx.mode).publishRoute(config, REPO_ROOT, file), { input: content, timeoutMs: 30_000 });
}

// ---------------------------------------------------------------------------------------
// Backends standing for one track's live listener on one server.

export interface TrackBackend extends ColorBackend {
    track: string;
}

/** Answers "<track> <host>": the first word is the track (harness/load.ts calls it the color), then the server. */
async function listen(track: string, host: string, port: number): Promise<TrackBackend> {
    return { track, ...(await startColorBackend(track, host, { host, port })) };
}

/** One backend per server host, all on one port (retrying if the port is taken on another address). */
export async function startTrackServers(track: string): Promise<TrackBackend[]> {
    for (let attempt = 0; ; attempt++) {
        const first = await listen(track, SERVER_HOSTS[0], 0);
        const started = [first];
        try {
            for (const host of SERVER_HOSTS.slice(1)) started.push(await listen(track, host, first.port));
            return started;
        } catch (err) {
            await Promise.all(started.map((b) => b.close()));
            if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 10) throw err;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The edge.

export interface EdgeSetup {
    mode: Mode;
    config: PortalConfig;
    tracks: Track[];
    nginx: NginxInstance;
    /** The public listener (follows the split) and the per-track test listeners. */
    publicUrl: string;
    trackUrl: Record<string, string>;
    /** Per track, its backend on each server host. */
    backends: Record<string, TrackBackend[]>;
    /** edge-live.conf (reload) or edge-live.state (state). */
    liveFile: string;
    reloadsAtStart: number;
    /** Publish the split (percent of traffic to py3) with the mode's script; asserts success. */
    setSplit(percent: number, splitMode?: SplitMode): Promise<void>;
    /** Requests answered per track, summed over its servers. */
    counts(): Record<string, number>;
    stop(): Promise<void>;
}

export async function startEdge(mode: Mode): Promise<EdgeSetup> {
    const backends: Record<string, TrackBackend[]> = {};
    let nginx: NginxInstance | undefined;
    try {
        backends[MAIN] = await startTrackServers(MAIN);
        backends[PY3] = await startTrackServers(PY3);
        const edgePort = await freePort();
        const trackPorts = { [MAIN]: await freePort(), [PY3]: await freePort() };
        const raw = baseRaw();
        raw.servers = SERVER_HOSTS.map((host, i) => ({ name: `web${i + 1}`, host, ...(i === 0 ? { primary: true, workers: ["djobs", "cron"] } : {}) }));
        // The servers' live listeners are the backends' ports; the passive ones are unused here.
        raw.nginx = { ...(raw.nginx as object), mode, canary: { mode: "request", cookie: COOKIE }, site: { address: "127.0.0.1", live: backends[MAIN][0]!.port, passive: await freePort() } };
        const py3 = (raw.tracks as Record<string, unknown>[])[0]!;
        py3.site = { address: "127.0.0.1", live: backends[PY3][0]!.port, passive: await freePort() };
        // The edge host's address only says where the program would ssh to (a host of its own:
        // validation refuses a server's); its nginx here is the local one below.
        raw.edge = { hosts: [{ name: EDGE_HOST, host: "127.0.0.3" }], listen: { address: "127.0.0.1", port: edgePort }, split: { track: PY3, percent: 0 }, trackPorts, dir: REPO_ROOT };
        // Scripts (and so the njs router) come from this repository.
        raw.dir = REPO_ROOT;
        const config = validateConfig(raw);
        const tracks = tracksOf(config);

        nginx = await startNginx({
            portalFiles: {},
            serverBody: 'location / { return 200 "nginx\\n"; }',
            njs: mode === "state",
            lua: mode === "lua",
        });
        attach(config, nginx);
        const n = nginx;
        const planned = await runPlannedSetup(config, EDGE_HOST, `${EDGE_HOST}-edge-route`);
        assert.deepEqual(planned, [...(mode === "reload" ? [`${EDGE_HOST}-edge-routes-init`] : []), `${EDGE_HOST}-edge-upstreams`, ...(mode === "reload" ? [] : [`${EDGE_HOST}-router`]), `${EDGE_HOST}-edge-site`]);

        const setSplit = async (percent: number, splitMode: SplitMode = "request") => {
            config.edge!.split = { track: PY3, percent };
            config.nginx.canary = { mode: splitMode, cookie: COOKIE };
            await runPlanned(config, `${EDGE_HOST}-edge-route`);
        };
        await setSplit(0);
        const liveFile = stepOf(planOf(config), `${EDGE_HOST}-edge-route`, "command").publishes!;
        return {
            mode,
            config,
            tracks,
            nginx: n,
            publicUrl: `http://127.0.0.1:${edgePort}/`,
            trackUrl: Object.fromEntries(Object.entries(trackPorts).map(([t, port]) => [t, `http://127.0.0.1:${port}/`])),
            backends,
            liveFile,
            reloadsAtStart: n.reconfigurations(),
            setSplit,
            counts: () => Object.fromEntries(Object.entries(backends).map(([t, bs]) => [t, bs.reduce((sum, b) => sum + b.count(), 0)])),
            stop: async () => {
                await n.stop();
                await Promise.all(Object.values(backends).flat().map((b) => b.close()));
            },
        };
    } catch (err) {
        await nginx?.stop();
        await Promise.all(Object.values(backends).flat().map((b) => b.close()));
        throw err;
    }
}
