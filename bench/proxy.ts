// npm run bench:proxy — the switching modes' per-request cost, in one process tree and one run: plain
// nginx `proxy_pass` to a fixed upstream (the floor, "A"), each project switching mode
// (reload, state, lua; the program's own rendered files and scripts, set up by
// harness/drillServer.ts exactly as on a server) and HAProxy 2.6 (server state through its
// runtime API), all in front of the same two trivial backends (one small nginx per color,
// `return 200 "<color>\n"`, so each color's request counter is its stub_status).
//
// Per round (PROXY_ROUNDS, default 3; the order of the proxies rotates between rounds):
//   * throughput: `wrk -t1 -c32 -d15s --latency` per proxy: req/s, p50, p99, and the
//     proxy's CPU (utime+stime of its whole process tree from /proc) per request;
//   * switching under load (the switchable proxies): wrk -c16 plus 16 never-retrying
//     keep-alive clients (harness/load.ts) for PROXY_SWITCH_SECONDS (30), the live
//     color switched every 500 ms with the mode's own command; failures by error code;
//     per switch, the first new-color response from the command's start and from its end,
//     and responses from the old color to requests sent after the command exited (stale);
//     for the project's modes, the command's start -> rename of the route file and -> exit;
//   * idle switches (the project's modes): PROXY_IDLE_SWITCHES (20) live switches with no
//     load, each command's start -> rename and -> exit, and a request sent right after each
//     exit must answer the new color. The commands are spawned and timed in a worker thread
//     (harness/switchTimer.ts), off the load clients' busy event loop.
// Once: canary precision at 0.5% over PROXY_CANARY_REQUESTS (200,000) requests per proxy,
// counted at the backends, as σ = (green − n·p) / √(n·p·(1−p)). HAProxy weights are
// 1:199 (its weights run 0–256: 1/257 ≈ 0.39% is its finest share; 0.5% happens to be exact).
// Medians over the rounds of ratios to plain nginx in the same round. Before each round it
// waits up to PROXY_IDLE_WAIT_SECONDS (120) for the 1-minute load average to drop below
// PROXY_IDLE_LOAD (1.0), and records the load average around every measurement.
// Writes bench-results/proxy.json (and a time-stamped copy). Loopback only, bounded.

import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as cmd from "../lib/server/commands";
import type { AppConfig, Color, ReleaseConfig } from "../lib/config/config";
import { DEFAULT_KEEPALIVE, renderListener, renderUpstreams } from "../lib/nginx/nginxRoutes";
import type { RouteModeName } from "../lib/nginx/routeModes";
import { startDrillNginx, type DrillNginx } from "../harness/drillNginx";
import { DrillServer } from "../harness/drillServer";
import { SwitchTimer } from "../harness/switchTimer";
import { median, withSendTimes } from "../harness/stats";
import { freePort, httpGet } from "../harness/http";
import { startLoad, summarize } from "../harness/load";
import { startOnFreePort, type NginxProcess } from "../harness/nginx";
import { REPO_ROOT, envWithoutProxy, makeTempDir, removeTempDir, run, sleep } from "../harness/run";

const num = (name: string, fallback: number) => (process.env[name] === undefined ? fallback : Number(process.env[name]));
const ROUNDS = num("PROXY_ROUNDS", 3);
const WRK_SECONDS = num("PROXY_WRK_SECONDS", 15);
const WRK_CONNECTIONS = 32;
const SWITCH_SECONDS = num("PROXY_SWITCH_SECONDS", 30);
const SWITCH_EVERY_MS = 500;
const IDLE_SWITCHES = num("PROXY_IDLE_SWITCHES", 20);
const SWITCH_WRK_CONNECTIONS = 16;
const NEVER_RETRY_CLIENTS = 16;
const CANARY_REQUESTS = num("PROXY_CANARY_REQUESTS", 200_000);
const CANARY_PERCENT = 0.5;
const IDLE_LOAD = num("PROXY_IDLE_LOAD", 1.0);
const IDLE_WAIT_SECONDS = num("PROXY_IDLE_WAIT_SECONDS", 120);
const KEEPALIVE = num("PROXY_KEEPALIVE", DEFAULT_KEEPALIVE);
/** The smaller keep-alive pool the program once rendered, measured for comparison. */
const OLD_KEEPALIVE = 16;

const release = (live: Color, canary = 0): ReleaseConfig => ({ tags: { blue: "v1", green: "v2" }, live, passive: canary > 0 ? other(live) : live, canary });
const other = (c: Color): Color => (c === "blue" ? "green" : "blue");
const loadavg = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

// ---------------------------------------------------------------------------------------
// Processes

/** utime+stime (seconds) of a process and all its descendants, from /proc. */
function treeCpuSeconds(root: number): number {
    const stats = new Map<number, { ppid: number; ticks: number }>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
        } catch {
            // exited meanwhile
        }
    }
    let ticks = 0;
    const walk = (pid: number) => {
        const s = stats.get(pid);
        if (!s) return;
        ticks += s.ticks;
        for (const [child, c] of stats) if (c.ppid === pid) walk(child);
    };
    walk(root);
    return ticks / CLK_TCK;
}
const CLK_TCK = 100; // Linux USER_HZ on every Debian kernel

interface Backend {
    color: Color;
    port: number;
    proc: NginxProcess;
    /** The backend's request counter (stub_status; it counts the probe itself). */
    requests(): Promise<number>;
}

async function startBackend(color: Color): Promise<Backend> {
    const prefix = makeTempDir(`proxy-backend-${color}`);
    fs.chmodSync(prefix, 0o755);
    const confFile = path.join(prefix, "nginx.conf");
    const errorLog = path.join(prefix, "error.log");
    const { port, proc } = await startOnFreePort(prefix, confFile, errorLog, (port) =>
        [
            "daemon off;",
            "master_process on;",
            "worker_processes 1;",
            `pid ${prefix}/nginx.pid;`,
            `error_log ${errorLog} notice;`,
            "events { worker_connections 1024; }",
            "http {",
            "  access_log off;",
            "  keepalive_requests 1000000;",
            "  keepalive_timeout 300s;",
            ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${prefix}/${t}_temp;`),
            `  server { listen 127.0.0.1:${port}; location / { return 200 "${color}\\n"; } location = /portal-bench-status { stub_status; } }`,
            "}",
            "",
        ].join("\n"),
    );
    return {
        color,
        port,
        proc,
        requests: async () => {
            const r = await httpGet(`http://127.0.0.1:${port}/portal-bench-status`);
            const m = /\n\s*\d+\s+\d+\s+(\d+)\s*\n/.exec(r.body);
            if (!m) throw new Error(`no stub_status counters: ${r.body}`);
            return Number(m[1]);
        },
    };
}

interface SwitchRun {
    start: number;
    end: number;
    /** When the route file was renamed into place (project modes; performance.now()). */
    renamed?: number | null;
    ok: boolean;
    detail: string;
}

interface Proxy {
    name: string;
    label: string;
    url: string;
    root(): number;
    /** Switch every request to `color` (no canary); times on performance.now(). */
    switchTo?(color: Color): Promise<SwitchRun>;
    setCanary?(percent: number): Promise<void>;
    stop(): Promise<void>;
}

const nginxMaster = (nginx: DrillNginx) => Number(fs.readFileSync(path.join(nginx.prefix, "nginx.pid"), "utf8").trim());

async function startPlain(blue: Backend, keepalive: number): Promise<Proxy> {
    const nginx = await startDrillNginx({ njs: false, workerProcesses: "1", workerConnections: 4096 });
    const port = await freePort();
    const app = { upstreamHost: "127.0.0.1" } as AppConfig;
    // The same upstream block and listener the program renders, with a fixed upstream name,
    // published as the program publishes a static file (the switch returns once nginx serves it).
    const publish = cmd.switchRoute(REPO_ROOT, path.join(nginx.confDir, "plain.conf"), nginx.control);
    const published = await run(publish.argv[0]!, publish.argv.slice(1), {
        input: renderUpstreams(app, { blue: blue.port }, "portal", keepalive) + renderListener("127.0.0.1", port, "portal_blue"),
        timeoutMs: 60_000,
    });
    if (published.code !== 0) throw new Error(`publishing plain.conf failed: ${published.stderr}`);
    await waitAnswers(`http://127.0.0.1:${port}/`, "blue");
    return { name: keepalive === KEEPALIVE ? "plain" : `plain-ka${keepalive}`, label: `plain nginx proxy_pass (keepalive ${keepalive})`, url: `http://127.0.0.1:${port}/`, root: () => nginxMaster(nginx), stop: () => nginx.stop() };
}

async function startMode(mode: RouteModeName, blue: Backend, green: Backend, keepalive: number): Promise<Proxy> {
    const nginx = await startDrillNginx({ njs: mode === "state", lua: mode === "lua", workerProcesses: "1", workerConnections: 4096 });
    const site = { live: await freePort(), passive: await freePort() };
    const server = new DrillServer({
        mode,
        confDir: nginx.confDir,
        nginx: nginx.control,
        hostPorts: { blue: blue.port, green: green.port },
        site,
        release: release("blue"),
        migrate: [],
        clock: () => performance.now(),
        keepalive,
    });
    const url = `http://127.0.0.1:${site.live}/`;
    try {
        await server.setup();
        await server.publishPassive(release("blue"));
        await server.publishLive(release("blue"));
        await nginx.settled();
        await waitAnswers(url, "blue");
    } catch (e) {
        await nginx.stop();
        server.cleanup();
        throw e;
    }
    const timer = new SwitchTimer(() => performance.now());
    const publish = async (r: ReleaseConfig): Promise<SwitchRun> => {
        const route = server.liveRoute(r);
        const res = await timer.run(route.command.argv, { input: route.content, env: envWithoutProxy(), cwd: REPO_ROOT, watch: route.path, timeoutMs: 60_000 });
        return { start: res.start, end: res.end, renamed: res.renamed, ok: res.code === 0, detail: res.code === 0 ? "" : `${res.code} ${res.stderr.trim()}` };
    };
    return {
        name: mode,
        label: `project ${mode} mode${keepalive === KEEPALIVE ? "" : ` (keepalive ${keepalive})`}`,
        url,
        root: () => nginxMaster(nginx),
        switchTo: (color) => publish(release(color)),
        setCanary: async (percent) => {
            const r = await publish(release("blue", percent));
            if (!r.ok) throw new Error(`${mode}: canary ${percent}%: ${r.detail}`);
            await nginx.settled();
        },
        stop: async () => {
            await timer.close();
            await nginx.stop();
            server.cleanup();
        },
    };
}

function haproxyCommand(socket: string, line: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const c = net.connect(socket);
        let out = "";
        c.setEncoding("utf8");
        c.on("data", (d: string) => (out += d));
        c.on("end", () => resolve(out));
        c.on("error", reject);
        c.end(line + "\n");
    });
}

async function startHaproxy(blue: Backend, green: Backend, keepalive: number): Promise<Proxy> {
    const dir = makeTempDir("proxy-haproxy");
    const port = await freePort();
    const socket = path.join(dir, "admin.sock");
    const cfg = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(
        cfg,
        [
            "global",
            "  nbthread 1",
            "  maxconn 4096",
            `  stats socket ${socket} mode 600 level admin`,
            "defaults",
            "  mode http",
            "  timeout connect 5s",
            "  timeout client 300s",
            "  timeout server 300s",
            "  timeout http-keep-alive 300s",
            "  option http-keep-alive",
            "  http-reuse always",
            "frontend fe",
            `  bind 127.0.0.1:${port}`,
            "  default_backend be",
            "backend be",
            "  balance roundrobin",
            `  server blue 127.0.0.1:${blue.port} weight 256 pool-max-conn ${keepalive}`,
            `  server green 127.0.0.1:${green.port} weight 256 pool-max-conn ${keepalive} disabled`,
            "",
        ].join("\n"),
    );
    const child = spawn("haproxy", ["-db", "-f", cfg], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    const url = `http://127.0.0.1:${port}/`;
    try {
        await waitAnswers(url, "blue");
    } catch (e) {
        child.kill("SIGKILL");
        throw new Error(`haproxy did not start: ${stderr}\n${String(e)}`);
    }
    const cmd = async (line: string) => {
        const out = await haproxyCommand(socket, line);
        if (out.trim() !== "") throw new Error(`haproxy: ${line}: ${out.trim()}`);
    };
    return {
        name: "haproxy",
        label: "HAProxy 2.6, server state via the runtime API",
        url,
        root: () => child.pid!,
        switchTo: async (color) => {
            const start = performance.now();
            let detail = "";
            try {
                // The new server first, so one is always up.
                await cmd(`set server be/${color} state ready; set server be/${other(color)} state maint`);
            } catch (e) {
                detail = String(e);
            }
            return { start, end: performance.now(), ok: detail === "", detail };
        },
        setCanary: async (percent) => {
            // 0.5% = 1/200: weights 1 and 199 (weights are 0-256).
            const green = Math.round((percent / 100) * 200);
            await cmd(`set server be/blue state ready; set server be/green state ready; set weight be/green ${green}; set weight be/blue ${200 - green}`);
        },
        stop: async () => {
            child.kill("SIGTERM");
            await exited;
            removeTempDir(dir);
        },
    };
}

async function waitAnswers(url: string, color: string, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < until) {
        try {
            const r = await httpGet(url);
            last = `${r.status} ${r.body.trim()}`;
            if (r.status === 200 && r.body.trim() === color) return;
        } catch (e) {
            last = String(e);
        }
        await sleep(50);
    }
    throw new Error(`${url} never answered ${color}; last: ${last}`);
}

// ---------------------------------------------------------------------------------------
// wrk

interface WrkResult {
    requests: number;
    seconds: number;
    rps: number;
    p50ms: number;
    p99ms: number;
    non2xx: number;
    socketErrors: Record<string, number>;
}

function toMs(value: string): number {
    const m = /^([\d.]+)(us|ms|s|m)$/.exec(value);
    if (!m) return NaN;
    const n = Number(m[1]);
    return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

function parseWrk(out: string): WrkResult {
    const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
    const p = (q: string) => toMs(new RegExp(`^\\s+${q}%\\s+(\\S+)`, "m").exec(out)?.[1] ?? "");
    const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    if (!total || !rps) throw new Error(`cannot parse wrk output:\n${out}`);
    return {
        requests: Number(total[1]),
        seconds: toMs(`${total[2]}${total[3]}`) / 1000,
        rps: Number(rps[1]),
        p50ms: p("50"),
        p99ms: p("99"),
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
        socketErrors: errs ? { connect: Number(errs[1]), read: Number(errs[2]), write: Number(errs[3]), timeout: Number(errs[4]) } : {},
    };
}

async function wrk(url: string, connections: number, seconds: number, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<WrkResult> {
    const r = await run("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", ...extra, url], { env: envWithoutProxy(env), timeoutMs: (seconds + 30) * 1000 });
    if (r.code !== 0) throw new Error(`wrk failed (${r.code}): ${r.stderr}${r.stdout}`);
    return parseWrk(r.stdout);
}

// ---------------------------------------------------------------------------------------
// Measurements

interface Throughput extends WrkResult {
    cpuUsPerRequest: number;
    load: number[];
}

async function throughput(proxy: Proxy): Promise<Throughput> {
    await wrk(proxy.url, WRK_CONNECTIONS, 2); // warm-up: fill the keep-alive pools
    const cpu0 = treeCpuSeconds(proxy.root());
    const r = await wrk(proxy.url, WRK_CONNECTIONS, WRK_SECONDS);
    const cpu1 = treeCpuSeconds(proxy.root());
    return { ...r, cpuUsPerRequest: ((cpu1 - cpu0) * 1e6) / r.requests, load: loadavg() };
}

interface Switching {
    switches: number;
    failedSwitches: string[];
    neverRetry: { requests: number; failures: number; errors: Record<string, number> };
    wrk: { requests: number; non2xx: number; socketErrors: Record<string, number> };
    /** ms from the command's start (and end) to the first response of the new color to a request sent after the start. */
    firstNewFromStartMs: { median: number; max: number };
    firstNewFromEndMs: { median: number; max: number };
    commandMs: { median: number; max: number };
    /** Command start -> rename of the route file (project modes). */
    renamedMs?: { median: number; max: number };
    /** Old-color responses to requests sent after the command exited (before the next switch). */
    staleAfterExit: number;
    load: number[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

async function switching(proxy: Proxy): Promise<Switching> {
    const durationMs = SWITCH_SECONDS * 1000;
    const wrkRun = wrk(proxy.url, SWITCH_WRK_CONNECTIONS, SWITCH_SECONDS);
    const load = startLoad({ url: proxy.url, keepAliveClients: NEVER_RETRY_CLIENTS, freshClients: 0, durationMs, timeoutMs: 10_000 });
    const base = performance.now() - load.now();
    const runs: Array<SwitchRun & { color: Color }> = [];
    let color: Color = "blue";
    await sleep(SWITCH_EVERY_MS);
    while (load.now() < durationMs - 2 * SWITCH_EVERY_MS) {
        color = other(color);
        const r = await proxy.switchTo!(color);
        runs.push({ ...r, start: r.start - base, end: r.end - base, renamed: r.renamed === undefined || r.renamed === null ? r.renamed : r.renamed - base, color });
        const wait = r.start - base + SWITCH_EVERY_MS - load.now();
        if (wait > 0) await sleep(wait);
    }
    const samples = withSendTimes(await load.done);
    const w = await wrkRun;
    const summary = summarize(samples);
    const fromStart: number[] = [];
    const fromEnd: number[] = [];
    let stale = 0;
    runs.forEach((s, i) => {
        const next = runs[i + 1]?.start ?? Infinity;
        const first = samples.filter((x) => x.ok && x.color === s.color && x.sentAt >= s.start && x.at < next).reduce((m, x) => Math.min(m, x.at), Infinity);
        if (Number.isFinite(first)) {
            fromStart.push(first - s.start);
            fromEnd.push(first - s.end);
        }
        stale += samples.filter((x) => x.ok && x.color === other(s.color) && x.sentAt > s.end && x.sentAt < next).length;
    });
    const cmdMs = runs.map((s) => s.end - s.start);
    const renamedMs = runs.flatMap((s) => (s.renamed === undefined || s.renamed === null ? [] : [s.renamed - s.start]));
    // Back to blue for what follows.
    if (color !== "blue") await proxy.switchTo!("blue");
    return {
        switches: runs.length,
        failedSwitches: runs.filter((s) => !s.ok).map((s) => s.detail),
        neverRetry: { requests: summary.requests, failures: summary.failures, errors: summary.errors },
        wrk: { requests: w.requests, non2xx: w.non2xx, socketErrors: w.socketErrors },
        firstNewFromStartMs: { median: r1(median(fromStart)), max: r1(Math.max(...fromStart)) },
        firstNewFromEndMs: { median: r1(median(fromEnd)), max: r1(Math.max(...fromEnd)) },
        commandMs: { median: r1(median(cmdMs)), max: r1(Math.max(...cmdMs)) },
        ...(renamedMs.length ? { renamedMs: { median: r1(median(renamedMs)), max: r1(Math.max(...renamedMs)) } } : {}),
        staleAfterExit: stale,
        load: loadavg(),
    };
}

interface IdleSwitches {
    switches: number;
    failedSwitches: string[];
    /** Command start -> rename of the route file (project modes) and -> exit, ms. */
    renamedMs?: { median: number; max: number };
    commandMs: { median: number; max: number };
    /** Requests sent right after an exit (fresh connection) that the old color answered. */
    staleAfterExit: number;
    load: number[];
}

/** PROXY_IDLE_SWITCHES live switches without load, 100 ms apart; one request right after each exit. */
async function idleSwitches(proxy: Proxy): Promise<IdleSwitches> {
    const runs: SwitchRun[] = [];
    let color: Color = "blue";
    let stale = 0;
    for (let i = 0; i < IDLE_SWITCHES; i++) {
        color = other(color);
        const r = await proxy.switchTo!(color);
        runs.push(r);
        const answer = (await httpGet(proxy.url)).body.split(/\s/)[0];
        if (r.ok && answer !== color) stale++;
        await sleep(100);
    }
    if (color !== "blue") await proxy.switchTo!("blue");
    const cmdMs = runs.map((s) => s.end - s.start);
    const renamedMs = runs.flatMap((s) => (s.renamed === undefined || s.renamed === null ? [] : [s.renamed - s.start]));
    return {
        switches: runs.length,
        failedSwitches: runs.filter((s) => !s.ok).map((s) => s.detail),
        ...(renamedMs.length ? { renamedMs: { median: r1(median(renamedMs)), max: r1(Math.max(...renamedMs)) } } : {}),
        commandMs: { median: r1(median(cmdMs)), max: r1(Math.max(...cmdMs)) },
        staleAfterExit: stale,
        load: loadavg(),
    };
}

interface Canary {
    requests: number;
    green: number;
    percent: number;
    sigma: number;
}

async function canary(proxy: Proxy, blue: Backend, green: Backend, scriptDir: string): Promise<Canary> {
    await proxy.setCanary!(CANARY_PERCENT);
    const b0 = await blue.requests();
    const g0 = await green.requests();
    // The script stops sending after the limit's responses, but wrk's main thread sleeps for
    // the whole -d: interrupt it (SIGINT: wrk prints and exits) once the backends saw them all.
    let child: ChildProcess | undefined;
    const done = run("wrk", ["-t1", `-c${WRK_CONNECTIONS}`, "-d300s", "-s", path.join(scriptDir, "stop-after.lua"), proxy.url], {
        env: envWithoutProxy({ PORTAL_BENCH_LIMIT: String(CANARY_REQUESTS) }),
        timeoutMs: 330_000,
        onSpawn: (c) => (child = c),
    });
    let last = -1;
    let probes = 0;
    for (;;) {
        probes++;
        await sleep(250);
        // Each probe counts itself on its backend.
        const seen = (await blue.requests()) - b0 - probes + (await green.requests()) - g0 - probes;
        if (seen === last && seen >= CANARY_REQUESTS) break;
        last = seen;
    }
    child?.kill("SIGINT");
    await done;
    probes++;
    // Every probe after the first counts itself on its backend: one per poll, and these two.
    const b = (await blue.requests()) - b0 - probes;
    const g = (await green.requests()) - g0 - probes;
    await proxy.switchTo!("blue");
    const n = b + g;
    const p = CANARY_PERCENT / 100;
    return { requests: n, green: g, percent: Math.round((1e6 * g) / n) / 1e4, sigma: r2((g - n * p) / Math.sqrt(n * p * (1 - p))) };
}

// ---------------------------------------------------------------------------------------

async function waitIdle(): Promise<{ waitedSeconds: number; load: number[] }> {
    const start = Date.now();
    while (os.loadavg()[0]! >= IDLE_LOAD && Date.now() - start < IDLE_WAIT_SECONDS * 1000) await sleep(2000);
    return { waitedSeconds: Math.round((Date.now() - start) / 1000), load: loadavg() };
}

function version(file: string, args: string[]): Promise<string> {
    return run(file, args, { timeoutMs: 10_000 }).then((r) => `${r.stdout}${r.stderr}`.split("\n")[0]!.trim(), () => "unknown");
}

async function main(): Promise<void> {
    const scriptDir = makeTempDir("proxy-wrk");
    fs.writeFileSync(
        path.join(scriptDir, "stop-after.lua"),
        'local limit = tonumber(os.getenv("PORTAL_BENCH_LIMIT"))\nlocal n = 0\nresponse = function(status, headers, body)\n  n = n + 1\n  if n >= limit then wrk.thread:stop() end\nend\n',
    );
    const started = new Date().toISOString();
    const loadAtStart = loadavg();
    const backends = { blue: await startBackend("blue"), green: await startBackend("green") };
    const proxies: Proxy[] = [];
    const cleanup = async () => {
        for (const p of proxies.splice(0)) await p.stop().catch(() => undefined);
        await backends.blue.proc.stop().catch(() => undefined);
        await backends.green.proc.stop().catch(() => undefined);
        removeTempDir(scriptDir);
    };
    // Interrupted (Ctrl-C, kill): stop every nginx, HAProxy and wrk this run started.
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            console.error(`${signal}: stopping the proxies and backends`);
            void cleanup().finally(() => process.exit(130));
        });
    }
    try {
        proxies.push(await startPlain(backends.blue, KEEPALIVE));
        for (const mode of ["reload", "state", "lua"] as const satisfies readonly RouteModeName[]) proxies.push(await startMode(mode, backends.blue, backends.green, KEEPALIVE));
        proxies.push(await startHaproxy(backends.blue, backends.green, KEEPALIVE));
        // The pool the program rendered before (16): the floor and the new mode.
        if (OLD_KEEPALIVE !== KEEPALIVE) {
            proxies.push(await startPlain(backends.blue, OLD_KEEPALIVE));
            const lua16 = await startMode("lua", backends.blue, backends.green, OLD_KEEPALIVE);
            proxies.push({ ...lua16, name: `lua-ka${OLD_KEEPALIVE}`, switchTo: undefined, setCanary: undefined });
        }
        const rounds: Array<{ idle: { waitedSeconds: number; load: number[] }; throughput: Record<string, Throughput>; idleSwitches: Record<string, IdleSwitches>; switching: Record<string, Switching> }> = [];
        for (let round = 0; round < ROUNDS; round++) {
            const idle = await waitIdle();
            console.error(`round ${round + 1}/${ROUNDS}: load ${idle.load.join(" ")} (waited ${idle.waitedSeconds} s)`);
            const order = proxies.map((_, i) => proxies[(i + round) % proxies.length]!);
            const tp: Record<string, Throughput> = {};
            for (const p of order) {
                tp[p.name] = await throughput(p);
                console.error(`  ${p.name}: ${Math.round(tp[p.name]!.rps)} req/s, p99 ${tp[p.name]!.p99ms} ms, ${r1(tp[p.name]!.cpuUsPerRequest)} µs CPU/req, load ${tp[p.name]!.load[0]}`);
            }
            const idleSw: Record<string, IdleSwitches> = {};
            for (const p of order.filter((x) => x.switchTo)) {
                idleSw[p.name] = await idleSwitches(p);
                const s = idleSw[p.name]!;
                console.error(`  ${p.name} idle switches: ${s.switches}, start -> rename ${s.renamedMs?.median ?? "-"} ms, -> exit ${s.commandMs.median} ms (max ${s.commandMs.max}), stale ${s.staleAfterExit}, load ${s.load[0]}`);
            }
            const sw: Record<string, Switching> = {};
            for (const p of order.filter((x) => x.switchTo)) {
                sw[p.name] = await switching(p);
                const s = sw[p.name]!;
                console.error(`  ${p.name} switching: ${s.switches} switches, never-retry ${s.neverRetry.failures}/${s.neverRetry.requests} failed, first new from start ${s.firstNewFromStartMs.median} ms, stale ${s.staleAfterExit}`);
            }
            rounds.push({ idle, throughput: tp, idleSwitches: idleSw, switching: sw });
        }
        const canaries: Record<string, Canary> = {};
        await waitIdle();
        for (const p of proxies.filter((x) => x.setCanary)) {
            canaries[p.name] = await canary(p, backends.blue, backends.green, scriptDir);
            console.error(`  ${p.name} canary ${CANARY_PERCENT}%: ${canaries[p.name]!.green} of ${canaries[p.name]!.requests} (${canaries[p.name]!.sigma} σ)`);
        }

        // Medians over rounds of each proxy's ratio to plain nginx in the same round.
        const ratio = (name: string, key: "rps" | "p50ms" | "p99ms" | "cpuUsPerRequest") => r2(median(rounds.map((r) => r.throughput[name]![key] / r.throughput.plain![key])));
        const abs = (name: string, key: "rps" | "p50ms" | "p99ms" | "cpuUsPerRequest") => r2(median(rounds.map((r) => r.throughput[name]![key])));
        const summary = proxies.map((p) => {
            const sw = rounds.map((r) => r.switching[p.name]).filter((x): x is Switching => x !== undefined);
            const idleSw = rounds.map((r) => r.idleSwitches[p.name]).filter((x): x is IdleSwitches => x !== undefined);
            const medMax = (xs: Array<{ median: number; max: number } | undefined>) => {
                const ys = xs.filter((x): x is { median: number; max: number } => x !== undefined);
                return ys.length ? { median: r1(median(ys.map((y) => y.median))), max: Math.max(...ys.map((y) => y.max)) } : undefined;
            };
            const errors: Record<string, number> = {};
            for (const s of sw) for (const [k, v] of Object.entries(s.neverRetry.errors)) errors[k] = (errors[k] ?? 0) + v;
            return {
                name: p.name,
                label: p.label,
                ratios: { rps: ratio(p.name, "rps"), p50: ratio(p.name, "p50ms"), p99: ratio(p.name, "p99ms"), cpuPerRequest: ratio(p.name, "cpuUsPerRequest") },
                medians: { rps: Math.round(abs(p.name, "rps")), p50ms: abs(p.name, "p50ms"), p99ms: abs(p.name, "p99ms"), cpuUsPerRequest: abs(p.name, "cpuUsPerRequest") },
                switching:
                    sw.length === 0
                        ? undefined
                        : {
                              neverRetryFailed: sw.reduce((a, s) => a + s.neverRetry.failures, 0),
                              neverRetryRequests: sw.reduce((a, s) => a + s.neverRetry.requests, 0),
                              errors,
                              wrkErrors: sw.reduce((a, s) => a + s.wrk.non2xx + Object.values(s.wrk.socketErrors).reduce((x, y) => x + y, 0), 0),
                              switches: sw.reduce((a, s) => a + s.switches, 0),
                              failedSwitches: sw.flatMap((s) => s.failedSwitches),
                              firstNewFromStartMs: { median: r1(median(sw.map((s) => s.firstNewFromStartMs.median))), max: Math.max(...sw.map((s) => s.firstNewFromStartMs.max)) },
                              firstNewFromEndMs: { median: r1(median(sw.map((s) => s.firstNewFromEndMs.median))), max: Math.max(...sw.map((s) => s.firstNewFromEndMs.max)) },
                              commandMs: { median: r1(median(sw.map((s) => s.commandMs.median))), max: Math.max(...sw.map((s) => s.commandMs.max)) },
                              renamedMs: medMax(sw.map((s) => s.renamedMs)),
                              staleAfterExit: sw.reduce((a, s) => a + s.staleAfterExit, 0),
                          },
                idleSwitches:
                    idleSw.length === 0
                        ? undefined
                        : {
                              switches: idleSw.reduce((a, s) => a + s.switches, 0),
                              failedSwitches: idleSw.flatMap((s) => s.failedSwitches),
                              renamedMs: medMax(idleSw.map((s) => s.renamedMs)),
                              commandMs: medMax(idleSw.map((s) => s.commandMs)),
                              staleAfterExit: idleSw.reduce((a, s) => a + s.staleAfterExit, 0),
                              load: idleSw.map((s) => s.load[0]),
                          },
                canary: canaries[p.name],
            };
        });
        const result = {
            command: "npm run bench:proxy",
            started,
            finished: new Date().toISOString(),
            machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: r1(os.totalmem() / 2 ** 30), kernel: os.release() },
            versions: {
                nginx: await version("nginx", ["-v"]),
                haproxy: await version("haproxy", ["-v"]),
                wrk: await version("wrk", ["-v"]),
                node: process.version,
            },
            settings: { rounds: ROUNDS, wrk: `wrk -t1 -c${WRK_CONNECTIONS} -d${WRK_SECONDS}s`, switching: `${SWITCH_SECONDS} s, every ${SWITCH_EVERY_MS} ms, wrk -c${SWITCH_WRK_CONNECTIONS} + ${NEVER_RETRY_CLIENTS} never-retry keep-alive clients`, canary: `${CANARY_PERCENT}% over ${CANARY_REQUESTS} requests`, keepalive: KEEPALIVE, idle: `load1 < ${IDLE_LOAD}, waited at most ${IDLE_WAIT_SECONDS} s` },
            loadAverage: { atStart: loadAtStart, atEnd: loadavg(), perRound: rounds.map((r) => r.idle.load) },
            summary,
            rounds,
        };
        const outDir = path.join(REPO_ROOT, "bench-results");
        fs.mkdirSync(outDir, { recursive: true });
        const json = JSON.stringify(result, null, 2) + "\n";
        fs.writeFileSync(path.join(outDir, "proxy.json"), json);
        fs.writeFileSync(path.join(outDir, `proxy-${started.replace(/[:.]/g, "-")}.json`), json);
        console.log(table(result.summary));
        console.log(`\nload average (1, 5, 15 min): start ${loadAtStart.join(" ")}, rounds ${result.loadAverage.perRound.map((l) => l.join(" ")).join(" / ")}, end ${result.loadAverage.atEnd.join(" ")}`);
        console.log(`written: bench-results/proxy.json`);
    } finally {
        await cleanup();
    }
}

type MedMax = { median: number; max: number } | undefined;
const medMaxText = (x: MedMax) => (x ? `${x.median} / ${x.max}` : "–");

function table(summary: Array<{ name: string; label: string; ratios: Record<string, number>; medians: Record<string, number>; switching?: any; idleSwitches?: any; canary?: Canary }>): string {
    const rows = summary.map((s) => {
        const sw = s.switching;
        const idle = s.idleSwitches;
        const errs = sw ? Object.entries(sw.errors as Record<string, number>).map(([k, v]) => `${v} ${k}`).join(", ") : "";
        return [
            s.label,
            String(s.medians.rps),
            s.ratios.rps!.toFixed(2),
            s.ratios.p50!.toFixed(2),
            s.ratios.p99!.toFixed(2),
            s.ratios.cpuPerRequest!.toFixed(2),
            sw ? `${sw.neverRetryFailed} of ${sw.neverRetryRequests}${errs ? ` (${errs})` : ""}; wrk ${sw.wrkErrors}` : "—",
            sw ? `${sw.firstNewFromStartMs.median} / ${sw.firstNewFromStartMs.max}` : "—",
            sw ? `${sw.firstNewFromEndMs.median}` : "—",
            sw ? String(sw.staleAfterExit) : "—",
            idle ? `${medMaxText(idle.renamedMs)}; ${medMaxText(idle.commandMs)}; stale ${idle.staleAfterExit}` : "—",
            sw ? `${medMaxText(sw.renamedMs)}; ${medMaxText(sw.commandMs)}` : "—",
            s.canary ? `${s.canary.percent}% of ${s.canary.requests} (${s.canary.sigma} σ)` : "—",
        ];
    });
    const head = ["proxy", "req/s", "req/s ×A", "p50 ×A", "p99 ×A", "CPU/req ×A", "failed while switching (never-retry)", "start → first new, ms (median / max)", "end → first new, ms", "stale after exit", "switch command, idle: start → rename; → exit, ms (median / max)", "switch command under load: start → rename; → exit", `canary ${CANARY_PERCENT}%`];
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(head), line(head.map((_, i) => (i === 0 || i === 6 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
