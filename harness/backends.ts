// Two tiny "color" backends on 127.0.0.1 for the routing tests: each answers every
// request with "<color> <version>\n" (the body's first word is the color, as
// harness/load.ts expects) and only counts requests (no per-request records, so
// tens of thousands of requests cost nothing).
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface ColorBackend {
    color: string;
    host: string;
    port: number;
    url: string;
    /** Requests answered so far. */
    count(): number;
    close(): Promise<void>;
}

/** Listens on 127.0.0.1 and a free port unless told otherwise (port 0: any free one). */
export async function startColorBackend(color: string, version: string, at: { host: string; port: number } = { host: "127.0.0.1", port: 0 }): Promise<ColorBackend> {
    let requests = 0;
    const body = `${color} ${version}\n`;
    const server = http.createServer((req, res) => {
        requests++;
        req.resume();
        req.on("end", () => {
            res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
            res.end(body);
        });
    });
    // nginx keeps idle upstream connections (keepalive 16) for 60 s by default: keep ours open
    // longer, so nginx never reuses a connection the backend is closing at that very moment.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 121_000;
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(at.port, at.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return {
        color,
        host: at.host,
        port,
        url: `http://${at.host}:${port}`,
        count: () => requests,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/** blue answers "blue v1\n", green answers "green v2\n". */
export async function startColorBackends(): Promise<{ blue: ColorBackend; green: ColorBackend }> {
    const blue = await startColorBackend("blue", "v1");
    try {
        return { blue, green: await startColorBackend("green", "v2") };
    } catch (err) {
        await blue.close();
        throw err;
    }
}
