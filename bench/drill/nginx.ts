// The drill's nginx: the Debian binary from a private temp prefix, with a main config
// shaped like a server's (Debian's defaults: worker_processes auto, 768 connections per
// worker) that includes every *.conf of the portal conf dir, which starts empty: the
// program's own scripts then write the routing files into it. A status listener on a free
// 127.0.0.1 port tells when nginx is up. (test/support/nginx.ts runs one worker with 64
// connections, too few for 32 concurrent clients plus their upstream connections.)

import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "../../test/support/http";
import { moduleLines, runNginx } from "../../test/support/nginx";
import { makeTempDir, sleep } from "../../test/support/run";

export interface DrillNginx {
    prefix: string;
    /** The conf dir the program writes into (nginx.confDir). */
    confDir: string;
    statusPort: number;
    errorLog: string;
    testCmd: string;
    reloadCmd: string;
    /** SIGHUPs the master has received so far. */
    reloadCount(): number;
    /** Lines of the error log at [warn] level or worse (alerts, crit, emerg, worker_connections). */
    problems(): string[];
    /** Resolves once no worker of an earlier configuration is left (a reload has fully taken effect). */
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
    const statusPort = await freePort();
    const p = (name: string) => path.join(prefix, name);
    const confFile = p("nginx.conf");
    const errorLog = p("error.log");
    fs.writeFileSync(
        confFile,
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
            `  client_body_temp_path ${p("client_body_temp")};`,
            `  proxy_temp_path ${p("proxy_temp")};`,
            `  fastcgi_temp_path ${p("fastcgi_temp")};`,
            `  uwsgi_temp_path ${p("uwsgi_temp")};`,
            `  scgi_temp_path ${p("scgi_temp")};`,
            `  include ${confDir}/*.conf;`,
            `  server { listen 127.0.0.1:${statusPort}; location / { return 204; } }`,
            "}",
            "",
        ].join("\n"),
    );
    const proc = await runNginx(prefix, confFile, errorLog, statusPort);
    const { readLog, stop } = proc;

    return {
        prefix,
        confDir,
        statusPort,
        errorLog,
        testCmd: proc.testCmd,
        reloadCmd: proc.reloadCmd,
        reloadCount: proc.reloadCount,
        problems: () =>
            readLog()
                .split("\n")
                .filter((l) => /\[(warn|error|crit|alert|emerg)\]/.test(l)),
        settled: async (timeoutMs = 30_000) => {
            const until = Date.now() + timeoutMs;
            for (;;) {
                const left = workersOfEarlierConfigs(readLog());
                if (left.length === 0) return;
                if (Date.now() > until) throw new Error(`nginx workers of an earlier configuration still running: ${left.join(", ")}`);
                await sleep(20);
            }
        },
        stop,
    };
}

/**
 * From the error log (notice level): every `nginx -s` run logs "signal process started"
 * before it signals; once the master has begun reconfiguring after the last of them, a
 * worker started before the last "reconfiguring" that has not "exited" still serves an
 * earlier configuration. Returns those workers' pids (or "reload pending" while a SIGHUP
 * is still on its way).
 */
export function workersOfEarlierConfigs(log: string): string[] {
    const lines = log.split("\n");
    // Reloads asked in quick succession can reach the master as one SIGHUP (a signal that is
    // already pending is not queued twice, and the master blocks signals while it
    // reconfigures), so the two counts need not match. A reload is pending while an
    // `nginx -s` started after the master last began to reconfigure; one that started before
    // it is covered by it (it wrote its files first).
    const lastSignal = lines.reduce((last, line, i) => (/signal process started/.test(line) ? i : last), -1);
    let lastReconfigure = -1;
    const started = new Map<string, number>();
    const exited = new Set<string>();
    lines.forEach((line, i) => {
        if (/: reconfiguring$/.test(line)) lastReconfigure = i;
        const start = /start worker process (\d+)/.exec(line);
        if (start) started.set(start[1], i);
        const exit = /worker process (\d+) exited/.exec(line);
        if (exit) exited.add(exit[1]);
    });
    if (lastSignal > lastReconfigure) return ["reload pending"];
    return [...started].filter(([pid, i]) => i < lastReconfigure && !exited.has(pid)).map(([pid]) => pid);
}
