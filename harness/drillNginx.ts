// The drill's nginx: the Debian binary from a private temp prefix, with a main config
// shaped like a server's (Debian's defaults: worker_processes auto, 768 connections per
// worker) that includes every *.conf of the portal conf dir, which starts empty: the
// program's own scripts then write the routing files into it. A status listener on a free
// 127.0.0.1 port tells when nginx is up. (harness/nginx.ts runs one worker with 64
// connections, too few for 32 concurrent clients plus their upstream connections.)

import * as fs from "node:fs";
import * as path from "node:path";
import type { NginxControl } from "../lib/config/config";
import { moduleLines, startOnFreePort, tempPathLines } from "./nginx";
import { makeTempDir, sleep } from "./run";

export interface DrillNginx {
    prefix: string;
    /** The conf dir the program writes into (nginx.confDir). */
    confDir: string;
    statusPort: number;
    errorLog: string;
    testCmd: string;
    reloadCmd: string;
    /** The program's nginx settings for this instance (test, reload, pid file, error log). */
    control: NginxControl;
    /** Reconfigurations the master has begun ("reconfiguring" notices). */
    reconfigurations(): number;
    /** Lines of the error log at [warn] level or worse (alerts, crit, emerg, worker_connections). */
    problems(): string[];
    /**
     * Resolves once every worker that accepts connections was started after the master's last
     * reconfiguration (no worker of an earlier configuration takes new connections).
     */
    settled(timeoutMs?: number): Promise<void>;
    stop(): Promise<void>;
}

export interface DrillNginxOptions {
    njs: boolean;
    lua?: boolean;
    workerProcesses?: string;
    workerConnections?: number;
}

export async function startDrillNginx(opts: DrillNginxOptions): Promise<DrillNginx> {
    const prefix = makeTempDir("drill-nginx");
    fs.chmodSync(prefix, 0o755); // workers run as nobody when the master is root
    const confDir = path.join(prefix, "portal");
    fs.mkdirSync(confDir, { mode: 0o755 });
    const p = (name: string) => path.join(prefix, name);
    const confFile = p("nginx.conf");
    const errorLog = p("error.log");
    const { port: statusPort, proc } = await startOnFreePort(prefix, confFile, errorLog, (statusPort) =>
        [
            ...moduleLines(opts),
            "daemon off;",
            "master_process on;",
            `worker_processes ${opts.workerProcesses ?? "auto"};`,
            `pid ${p("nginx.pid")};`,
            `error_log ${errorLog} notice;`,
            `events { worker_connections ${opts.workerConnections ?? 768}; }`,
            "http {",
            "  access_log off;",
            "  sendfile on;",
            "  tcp_nopush on;",
            ...tempPathLines(prefix),
            `  include ${confDir}/*.conf;`,
            `  server { listen 127.0.0.1:${statusPort}; location / { return 204; } }`,
            "}",
            "",
        ].join("\n"),
    );
    const { readLog, stop } = proc;

    return {
        prefix,
        confDir,
        statusPort,
        errorLog,
        testCmd: proc.testCmd,
        reloadCmd: proc.reloadCmd,
        control: proc.control,
        reconfigurations: proc.reconfigurations,
        problems: () =>
            readLog()
                .split("\n")
                .filter((l) => /\[(warn|error|crit|alert|emerg)\]/.test(l)),
        settled: async (timeoutMs = 30_000) => {
            const until = Date.now() + timeoutMs;
            for (;;) {
                const left = workersOfEarlierConfigs(readLog(), proc.acceptingWorkers());
                if (left.length === 0) return;
                if (Date.now() > until) throw new Error(`nginx workers of an earlier configuration still running: ${left.join(", ")}`);
                await sleep(20);
            }
        },
        stop,
    };
}

/**
 * Of the workers accepting connections now (from /proc), those not started after the master's
 * last "reconfiguring" notice in its error log (notice level). Counts nothing per signal: the
 * master merges SIGHUPs that arrive while it reconfigures.
 */
export function workersOfEarlierConfigs(log: string, accepting: number[]): string[] {
    const lines = log.split("\n");
    let lastReconfigure = -1;
    lines.forEach((line, i) => {
        if (/: reconfiguring$/.test(line)) lastReconfigure = i;
    });
    if (lastReconfigure < 0) return [];
    const current = new Set<number>();
    for (const line of lines.slice(lastReconfigure)) {
        const start = /start worker process (\d+)/.exec(line);
        if (start) current.add(Number(start[1]));
    }
    return accepting.filter((pid) => !current.has(pid)).map(String);
}
