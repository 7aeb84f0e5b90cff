// Times a switch command from its start to the route file's rename and to its exit, off the
// caller's event loop. The benches run their load clients in the main thread, whose event
// loop is busy: an exit or an inotify event seen there arrives late by however long the loop
// was busy. Here the command is spawned, its exit noted and the conf dir watched in a worker
// thread that does nothing else, on process.hrtime (CLOCK_MONOTONIC, shared by all threads),
// and the caller maps the times onto its own clock.

import { Worker } from "node:worker_threads";

/** The worker, in plain JavaScript (no ts-node in the thread). */
const WORKER = `
const { parentPort } = require("node:worker_threads");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
parentPort.on("message", (m) => {
    const base = path.basename(m.watch);
    let renamed = null;
    let exited = null;
    // The first event naming the route file after the start: its rename into place (the
    // scripts write a hidden temp file, then rename it over the route file).
    const watcher = fs.watch(path.dirname(m.watch), (_event, file) => {
        if (renamed === null && String(file) === base) renamed = process.hrtime.bigint();
    });
    const start = process.hrtime.bigint();
    let child;
    try {
        child = spawn(m.argv[0], m.argv.slice(1), { env: m.env, cwd: m.cwd, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
        watcher.close();
        parentPort.postMessage({ id: m.id, error: String(e) });
        return;
    }
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), m.timeoutMs);
    child.on("exit", () => (exited = process.hrtime.bigint()));
    child.on("error", (e) => (stderr += String(e)));
    child.on("close", (code, signal) => {
        clearTimeout(timer);
        const end = exited ?? process.hrtime.bigint();
        // Late inotify events for the rename are still queued: give them one turn of the loop.
        setImmediate(() => {
            watcher.close();
            parentPort.postMessage({ id: m.id, code, signal, stdout, stderr, start, renamed, end });
        });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(m.input ?? "");
});
`;

export interface TimedRun {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    /** On the caller's clock (ms): the spawn, the watched file's rename (null: none seen), the exit. */
    start: number;
    renamed: number | null;
    end: number;
}

interface Reply {
    id: number;
    error?: string;
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    start: bigint;
    renamed: bigint | null;
    end: bigint;
}

export class SwitchTimer {
    private readonly worker = new Worker(WORKER, { eval: true });
    private next = 0;
    private readonly pending = new Map<number, (r: Reply) => void>();

    /** `clock`: the caller's clock in ms (the load's clock, performance.now()). */
    constructor(private readonly clock: () => number) {
        this.worker.on("message", (r: Reply) => {
            const resolve = this.pending.get(r.id);
            this.pending.delete(r.id);
            resolve?.(r);
        });
        this.worker.unref();
    }

    /** Runs argv with `input` on stdin, watching `watch` (a file path) for its rename. */
    run(argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; watch: string; timeoutMs?: number }): Promise<TimedRun> {
        const id = this.next++;
        return new Promise<TimedRun>((resolve, reject) => {
            this.worker.ref();
            this.pending.set(id, (r) => {
                if (this.pending.size === 0) this.worker.unref();
                if (r.error !== undefined) return reject(new Error(r.error));
                // Map the worker's hrtime stamps onto the caller's clock at one instant.
                const nowHr = process.hrtime.bigint();
                const now = this.clock();
                const at = (t: bigint) => now - Number(nowHr - t) / 1e6;
                resolve({ code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr, start: at(r.start), renamed: r.renamed === null ? null : at(r.renamed), end: at(r.end) });
            });
            this.worker.postMessage({ id, argv: [...argv], input: opts.input, env: opts.env ?? process.env, cwd: opts.cwd, watch: opts.watch, timeoutMs: opts.timeoutMs ?? 120_000 });
        });
    }

    async close(): Promise<void> {
        await this.worker.terminate();
    }
}
