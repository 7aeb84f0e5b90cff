// Run the Debian nginx binary from a private temp prefix on a free 127.0.0.1 port.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { NginxControl } from "../lib/config/config";
import { addressInUse, freePort, httpGet } from "./http";
import { makeTempDir, removeTempDir, sleep } from "./run";

export interface NginxInstance {
  prefix: string;
  port: number;
  baseUrl: string;
  /** <prefix>/portal: every *.conf in it is included in the http block. */
  portalDir: string;
  confFile: string;
  errorLog: string;
  /** Plain words, as switch-route.sh expects TEST_CMD / RELOAD_CMD. */
  testCmd: string;
  reloadCmd: string;
  /** The program's nginx settings for this instance (test, reload, pid file, error log). */
  control: NginxControl;
  /** How many reconfigurations the master has begun (its "reconfiguring" notices). */
  reconfigurations(): number;
  /** Poll GET path until the body equals `body` (after a reload workers are replaced asynchronously). */
  waitForBody(pathname: string, body: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** File name (in portalDir) -> content, written before nginx starts. */
  portalFiles: Record<string, string>;
  /** Content of the server block's body (listen line is added). */
  serverBody: string;
  /** Load Debian's njs module (libnginx-mod-http-js), for the reload-free routing mode. */
  njs?: boolean;
  /** Load Debian's lua module (libnginx-mod-http-lua, with ndk), for the "lua" routing mode. */
  lua?: boolean;
  /** Extra http-level directives, e.g. more server blocks. */
  httpExtra?: string;
}

export const NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so";
/** The lua module needs the NDK loaded first (Debian: libnginx-mod-http-ndk). */
export const LUA_MODULES = ["/usr/lib/nginx/modules/ndk_http_module.so", "/usr/lib/nginx/modules/ngx_http_lua_module.so"];

/** load_module lines for a routing mode's router. */
/** Every *_temp_path of the http block under `prefix`, so nginx writes nothing outside it. */
export function tempPathLines(prefix: string): string[] {
  return ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${path.join(prefix, `${t}_temp`)};`);
}

export function moduleLines(opts: { njs?: boolean; lua?: boolean }): string[] {
  return [...(opts.njs ? [`load_module ${NJS_MODULE};`] : []), ...(opts.lua ? LUA_MODULES.map((m) => `load_module ${m};`) : [])];
}

export async function startNginx(opts: NginxOptions): Promise<NginxInstance> {
  const prefix = makeTempDir("nginx");
  fs.chmodSync(prefix, 0o755); // workers run as nobody when the master is root
  const portalDir = path.join(prefix, "portal");
  fs.mkdirSync(portalDir);
  for (const [name, content] of Object.entries(opts.portalFiles)) {
    fs.writeFileSync(path.join(portalDir, name), content);
  }
  const confFile = path.join(prefix, "nginx.conf");
  const errorLog = path.join(prefix, "error.log");
  const p = (name: string) => path.join(prefix, name);
  const { port, proc } = await startOnFreePort(prefix, confFile, errorLog, (port) =>
    [
      ...moduleLines(opts),
      "daemon off;",
      "master_process on;",
      "worker_processes 1;",
      `pid ${p("nginx.pid")};`,
      `error_log ${errorLog} notice;`,
      "events { worker_connections 64; }",
      "http {",
      "  access_log off;",
      ...tempPathLines(prefix),
      `  include ${portalDir}/*.conf;`,
      "  server {",
      `    listen 127.0.0.1:${port};`,
      `    ${opts.serverBody}`,
      "  }",
      opts.httpExtra ?? "",
      "}",
      "",
    ].join("\n"),
  );

  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    prefix,
    port,
    baseUrl,
    portalDir,
    confFile,
    errorLog,
    testCmd: proc.testCmd,
    reloadCmd: proc.reloadCmd,
    control: proc.control,
    reconfigurations: proc.reconfigurations,
    waitForBody: async (pathname, body, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      let last = "";
      for (;;) {
        try {
          const r = await httpGet(baseUrl + pathname);
          last = `${r.status} ${r.body}`;
          if (r.status === 200 && r.body === body) return;
        } catch (err) {
          last = String(err);
        }
        if (Date.now() > until) throw new Error(`GET ${pathname} never answered ${body}; last: ${last}`);
        await sleep(50);
      }
    },
    stop: proc.stop,
  };
}

/**
 * Writes the config `render(port)` with a free port for its probe listener and starts nginx,
 * picking another port when that one was taken in between (EADDRINUSE); on any other
 * failure it removes the prefix and throws with nginx's output.
 */
export async function startOnFreePort(
  prefix: string,
  confFile: string,
  errorLog: string,
  render: (port: number) => string,
): Promise<{ port: number; proc: NginxProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    fs.writeFileSync(confFile, render(port));
    try {
      return { port, proc: await runNginx(prefix, confFile, errorLog, port) };
    } catch (err) {
      if (attempt < 5 && err instanceof NginxStartError && addressInUse(err.message)) {
        fs.rmSync(errorLog, { force: true });
        continue;
      }
      removeTempDir(prefix);
      throw err;
    }
  }
}

/** A running nginx master started from a prefix and config file, as the tests and the drill use it. */
export interface NginxProcess {
  /** Plain words, as switch-route.sh expects TEST_CMD / RELOAD_CMD. */
  testCmd: string;
  reloadCmd: string;
  control: NginxControl;
  pidFile: string;
  readLog(): string;
  /** Reconfigurations the master has begun ("reconfiguring" notices; merged SIGHUPs count once). */
  reconfigurations(): number;
  /** Pids of the master's workers that still accept connections (not "shutting down"). */
  acceptingWorkers(): number[];
  /** Stops nginx (master and workers) and removes the prefix. */
  stop(): Promise<void>;
}

export class NginxStartError extends Error {}

/** Pids of `master`'s child processes whose title is an nginx worker's that has not been told to stop. */
export function acceptingWorkersOf(master: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== master) continue;
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (title.startsWith("nginx: worker process") && !title.includes("shutting down")) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids.sort((a, b) => a - b);
}

/**
 * Starts `nginx -p <prefix> -c <confFile>` in the foreground, in its own process group, and
 * waits until it answers on 127.0.0.1:<probePort>; throws NginxStartError with nginx's output
 * if it exits or does not answer within 10 s (the caller removes the prefix).
 */
export async function runNginx(prefix: string, confFile: string, errorLog: string, probePort: number): Promise<NginxProcess> {
  // -e: early error log before the config is read, so nothing touches /var/log/nginx.
  const baseArgs = ["-p", `${prefix}/`, "-c", confFile, "-e", errorLog];
  const child: ChildProcess = spawn("nginx", baseArgs, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.on("exit", () => ((exited = true), resolve())));
  child.on("error", (err) => {
    stderr += String(err);
  });
  const pidFile = path.join(prefix, "nginx.pid");

  const readLog = () => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, "utf8") : "");
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is gone
    }
  };
  // SIGTERM: the master stops its workers and exits; SIGKILL to the whole group (workers
  // included) if it has not within 5 s.
  const stopProcesses = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await Promise.race([exitPromise, sleep(5000)]);
    }
    killGroup("SIGKILL");
    if (!exited) await exitPromise;
  };
  const stop = async () => {
    await stopProcesses();
    removeTempDir(prefix);
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) {
      killGroup("SIGKILL");
      throw new NginxStartError(`nginx exited during startup:\n${stderr}\n${readLog()}`);
    }
    try {
      await httpGet(`http://127.0.0.1:${probePort}/`, 1000);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopProcesses();
        throw new NginxStartError(`nginx did not start listening on ${probePort}:\n${stderr}\n${readLog()}`);
      }
      await sleep(50);
    }
  }
  const testCmd = ["nginx", ...baseArgs, "-t"].join(" ");
  const reloadCmd = ["nginx", ...baseArgs, "-s", "reload"].join(" ");
  return {
    testCmd,
    reloadCmd,
    control: { test: testCmd, reload: reloadCmd, pidFile, errorLog, reloadTimeoutSeconds: 30 },
    pidFile,
    readLog,
    reconfigurations: () => (readLog().match(/: reconfiguring$/gm) ?? []).length,
    acceptingWorkers: () => (child.pid ? acceptingWorkersOf(child.pid) : []),
    stop,
  };
}
