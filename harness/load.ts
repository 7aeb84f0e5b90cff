// A bounded HTTP load generator for loopback tests and benchmarks. Each client sends its
// requests one after the other and never retries: keep-alive clients reuse one connection
// (like API clients behind a pool), fresh clients open a new connection per request
// (`Connection: close`). It stops by itself after `durationMs` or `maxRequests`.

import * as http from "node:http";
import { performance } from "node:perf_hooks";

export type ClientKind = "keepalive" | "fresh";

export interface LoadOptions {
    /** Only loopback targets are allowed. */
    url: string;
    keepAliveClients: number;
    freshClients: number;
    /** Hard stop, whatever else happens. */
    durationMs: number;
    /** Stop after this many requests in all (default: unbounded within durationMs). */
    maxRequests?: number;
    /** Cookie header per client, e.g. for sticky routing. */
    cookieFor?: (client: number) => string | undefined;
    /** Per-request timeout. */
    timeoutMs?: number;
}

export interface Sample {
    /** ms since the load started, when the response (or error) arrived. */
    at: number;
    client: number;
    kind: ClientKind;
    ok: boolean;
    status?: number;
    /** First word of the body: the color that answered. */
    color?: string;
    body?: string;
    error?: string;
}

export interface LoadRun {
    /** Resolves when every client has stopped. */
    done: Promise<Sample[]>;
    /** Milliseconds since the load started. */
    now(): number;
    /** Ask every client to stop after its current request. */
    stop(): void;
    /** Samples so far. */
    samples: Sample[];
}

function assertLoopback(url: string): void {
    const host = new URL(url).hostname;
    if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== "localhost" && host !== "[::1]") {
        throw new Error(`load tests only target loopback addresses, not ${host}`);
    }
}

function request(url: string, agent: http.Agent | false, headers: http.OutgoingHttpHeaders, timeoutMs: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { agent, headers, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

export function startLoad(opts: LoadOptions): LoadRun {
    assertLoopback(opts.url);
    const started = performance.now();
    const now = () => performance.now() - started;
    const samples: Sample[] = [];
    let stopping = false;
    const timer = setTimeout(() => (stopping = true), opts.durationMs);
    const limitReached = () => opts.maxRequests !== undefined && samples.length >= opts.maxRequests;

    const client = async (index: number, kind: ClientKind) => {
        const agent = kind === "keepalive" ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
        const headers: http.OutgoingHttpHeaders = kind === "fresh" ? { connection: "close" } : {};
        const cookie = opts.cookieFor?.(index);
        if (cookie) headers.cookie = cookie;
        while (!stopping && !limitReached()) {
            try {
                const r = await request(opts.url, agent, headers, opts.timeoutMs ?? 5000);
                const ok = r.status >= 200 && r.status < 300;
                samples.push({ at: now(), client: index, kind, ok, status: r.status, color: r.body.split(/\s/)[0], body: r.body });
            } catch (e) {
                samples.push({ at: now(), client: index, kind, ok: false, error: (e as NodeJS.ErrnoException).code ?? String(e) });
            }
        }
        if (agent) agent.destroy();
    };

    const clients: Promise<void>[] = [];
    for (let i = 0; i < opts.keepAliveClients; i++) clients.push(client(i, "keepalive"));
    for (let i = 0; i < opts.freshClients; i++) clients.push(client(opts.keepAliveClients + i, "fresh"));
    const done = Promise.all(clients).then(() => {
        clearTimeout(timer);
        return samples;
    });
    return { done, now, stop: () => (stopping = true), samples };
}

export interface Summary {
    requests: number;
    failures: number;
    byColor: Record<string, number>;
    errors: Record<string, number>;
}

export function summarize(samples: Sample[]): Summary {
    const byColor: Record<string, number> = {};
    const errors: Record<string, number> = {};
    let failures = 0;
    for (const s of samples) {
        if (s.ok) byColor[s.color ?? "?"] = (byColor[s.color ?? "?"] ?? 0) + 1;
        else {
            failures++;
            const key = s.error ?? `HTTP ${s.status}`;
            errors[key] = (errors[key] ?? 0) + 1;
        }
    }
    return { requests: samples.length, failures, byColor, errors };
}

/**
 * The largest deviation a fair binomial draw meets with overwhelming probability:
 * |observed - expected| <= k * sqrt(n p (1 - p)), with k = 4 (fails a correct router
 * about once in 16,000 runs).
 */
export function binomialBound(n: number, p: number, k = 4): number {
    return k * Math.sqrt(n * p * (1 - p));
}

/** A stretch of a load between two switches: the share asked, and when it held (load clock, ms). */
export interface ShareWindow {
    percent: number;
    from: number;
    to: number;
}

/**
 * Under a running load (which starts at share 0): waits until `dwell.requests` answers came
 * after the last switch (or `dwell.maxMs`), then applies each share of `sequence` and waits
 * again; stops the load. Returns the windows between switches.
 */
export async function switchUnderLoad(
    load: LoadRun,
    sequence: readonly number[],
    apply: (percent: number) => Promise<void>,
    dwell: { requests: number; maxMs: number },
): Promise<ShareWindow[]> {
    const windows: ShareWindow[] = [];
    let current = { percent: 0, from: 0 };
    const wait = async () => {
        const until = load.now() + dwell.maxMs;
        while (load.samples.filter((s) => s.at > current.from).length < dwell.requests && load.now() < until) {
            await new Promise((r) => setTimeout(r, 25));
        }
    };
    try {
        await wait();
        for (const percent of sequence) {
            windows.push({ ...current, to: load.now() });
            await apply(percent);
            current = { percent, from: load.now() };
            await wait();
        }
        windows.push({ ...current, to: load.now() });
    } finally {
        load.stop();
    }
    return windows;
}

/**
 * Per window, the requests that started after it began and were answered before it ended
 * (a client sends its next request right after the previous answer), and how many of them
 * `color` answered.
 */
export function windowShares(samples: Sample[], windows: ShareWindow[], color: string): { percent: number; n: number; g: number }[] {
    const lastAt = new Map<number, number>();
    const started = new Map<Sample, number>();
    for (const s of samples) {
        started.set(s, lastAt.get(s.client) ?? 0);
        lastAt.set(s.client, s.at);
    }
    return windows.map((w) => {
        const inWindow = samples.filter((s) => started.get(s)! >= w.from && s.at <= w.to);
        return { percent: w.percent, n: inWindow.length, g: inWindow.filter((s) => s.color === color).length };
    });
}
