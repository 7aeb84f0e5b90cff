// Tiny real HTTP servers/clients on 127.0.0.1 for the script tests.
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export interface TestServer {
  port: number;
  url: string;
  /** Requests received so far. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Handler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

/** Start an HTTP server on 127.0.0.1 on a free port; it records every request. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const rec: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body,
        at: Date.now(),
      };
      requests.push(rec);
      Promise.resolve(handler(rec, res)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server answering `text` with 200 on every path. */
export function startTextServer(text: string): Promise<TestServer> {
  return startServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(text);
  });
}

/** The kernel's ephemeral port range: it hands out ports for listen(0) and outgoing connections only there. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux: the IANA range
  }
  return [49152, 65535];
}

const handedOut = new Set<number>();

/**
 * A port on 127.0.0.1 that nothing listens on now, for a server that binds it later (nginx,
 * docker). It lies below the kernel's ephemeral range, so no outgoing connection or listen(0)
 * of this machine can take it in between; it is never handed out twice in one process, and
 * the process id spreads parallel test processes apart. Callers that start a server on it
 * still retry on EADDRINUSE (another process may pick the same port).
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const span = Math.max(1000, ephemeralLow - low);
  let candidate = low + ((process.pid * 97 + handedOut.size * 7919 + Math.floor(Math.random() * span)) % span);
  for (let tries = 0; tries < 200; tries++, candidate = low + ((candidate - low + 1 + Math.floor(Math.random() * 50)) % span)) {
    if (handedOut.has(candidate)) continue;
    if (await canBind(candidate)) {
      handedOut.add(candidate);
      return candidate;
    }
  }
  throw new Error("no free port found below the ephemeral range");
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** True when an error (or a server's output) says a port was taken. */
export function addressInUse(text: string): boolean {
  return /EADDRINUSE|[Aa]ddress already in use/.test(text);
}

/** GET on a fresh connection (no keep-alive, so every request sees nginx's current workers). */
export function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}
