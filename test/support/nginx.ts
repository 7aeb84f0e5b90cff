// Run the Debian nginx binary from a private temp prefix on a free 127.0.0.1 port.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, httpGet } from "./http";
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
  /** How many times the master has been told to reload (SIGHUP) so far. */
  reloadCount(): number;
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
  const port = await freePort();
  const confFile = path.join(prefix, "nginx.conf");
  const errorLog = path.join(prefix, "error.log");
  const p = (name: string) => path.join(prefix, name);
  fs.writeFileSync(
    confFile,
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
      `  client_body_temp_path ${p("client_body_temp")};`,
      `  proxy_temp_path ${p("proxy_temp")};`,
      `  fastcgi_temp_path ${p("fastcgi_temp")};`,
      `  uwsgi_temp_path ${p("uwsgi_temp")};`,
      `  scgi_temp_path ${p("scgi_temp")};`,
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
  const proc = await runNginx(prefix, confFile, errorLog, port);
  const { stop } = proc;

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
    reloadCount: proc.reloadCount,
    waitForBody: async (pathname, body, timeoutMs = 5000) => {
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
    stop,
  };
}

/** A running nginx master started from a prefix and config file, as the tests and the drill use it. */
export interface NginxProcess {
  /** Plain words, as switch-route.sh expects TEST_CMD / RELOAD_CMD. */
  testCmd: string;
  reloadCmd: string;
  readLog(): string;
  /** How many times the master has been told to reload (SIGHUP) so far. */
  reloadCount(): number;
  /** Stops nginx and removes the prefix. */
  stop(): Promise<void>;
}

/**
 * Starts `nginx -p <prefix> -c <confFile>` in the foreground and waits until it answers on
 * 127.0.0.1:<probePort>; on failure it stops, removes the prefix and throws with nginx's output.
 */
export async function runNginx(prefix: string, confFile: string, errorLog: string, probePort: number): Promise<NginxProcess> {
  // -e: early error log before the config is read, so nothing touches /var/log/nginx.
  const baseArgs = ["-p", `${prefix}/`, "-c", confFile, "-e", errorLog];
  const child: ChildProcess = spawn("nginx", baseArgs, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.on("exit", () => ((exited = true), resolve())));
  child.on("error", (err) => {
    stderr += String(err);
  });

  const readLog = () => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, "utf8") : "");
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await Promise.race([exitPromise, sleep(5000)]);
      if (!exited) {
        child.kill("SIGKILL");
        await exitPromise;
      }
    }
    removeTempDir(prefix);
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) {
      const log = readLog();
      removeTempDir(prefix);
      throw new Error(`nginx exited during startup:\n${stderr}\n${log}`);
    }
    try {
      await httpGet(`http://127.0.0.1:${probePort}/`, 1000);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`nginx did not start listening on ${probePort}:\n${stderr}`);
      }
      await sleep(50);
    }
  }
  return {
    testCmd: ["nginx", ...baseArgs, "-t"].join(" "),
    reloadCmd: ["nginx", ...baseArgs, "-s", "reload"].join(" "),
    readLog,
    reloadCount: () => (readLog().match(/signal 1 \(SIGHUP\) received/g) ?? []).length,
    stop,
  };
}
