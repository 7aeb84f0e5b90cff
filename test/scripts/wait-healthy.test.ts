// wait-healthy.sh against real node HTTP servers.
import assert from "node:assert/strict";
import { freePort, startServer, type TestServer } from "../../harness/http";
import { describeResult, envWithoutProxy, runScript } from "../../harness/run";

describe("scripts/wait-healthy.sh (real HTTP)", function () {
  this.timeout(20_000);
  let server: TestServer | undefined;

  afterEach(async function () {
    await server?.close();
    server = undefined;
  });

  it("succeeds once the server turns healthy (503 for ~1.5 s, then 200)", async function () {
    const start = Date.now();
    server = await startServer((_req, res) => {
      res.statusCode = Date.now() - start < 1500 ? 503 : 200;
      res.end();
    });
    // A dead proxy in the environment must not matter: the script uses --noproxy.
    const r = await runScript("wait-healthy.sh", [`${server.url}/healthz`, "10"], {
      env: envWithoutProxy({ http_proxy: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" }),
    });
    assert.equal(r.code, 0, describeResult(r));
    const n = server.requests.length;
    assert.ok(n >= 2, `polled more than once (got ${n})`);
    assert.ok(Date.now() - start >= 1500);
    assert.match(r.stderr, new RegExp(`wait-healthy: healthy after ${n} attempt\\(s\\)`));
    assert.ok(server.requests.every((q) => q.url === "/healthz" && q.method === "GET"));
    // Default interval is 1 s: ~1.5 s of 503s cannot take more than 3 attempts.
    assert.ok(n <= 3, `default interval of 1 s (got ${n} attempts)`);
  });

  it("fails after TIMEOUT_SECONDS, not before, on an always-503 server", async function () {
    server = await startServer((_req, res) => {
      res.statusCode = 503;
      res.end("down");
    });
    const r = await runScript("wait-healthy.sh", [`${server.url}/`, "2"], {
      env: envWithoutProxy({ INTERVAL: "0.25" }),
    });
    assert.equal(r.code, 1, describeResult(r));
    assert.ok(r.ms >= 2000, `gave up too early (${r.ms} ms)`);
    // The deadline plus one interval and one curl --max-time (2 s), with room for a loaded machine.
    assert.ok(r.ms < 2000 + 250 + 2000 + 5000, `gave up too late (${r.ms} ms)`);
    const { requests } = server;
    const n = requests.length;
    // INTERVAL is honoured: attempts follow each other faster than the default 1 s sleep allows
    // (a gap is curl's own time plus the sleep; counting attempts in 2 s would depend on load).
    assert.ok(n >= 2, `polled more than once (got ${n})`);
    const gaps = requests.slice(1).map((q, i) => q.at - requests[i].at).sort((a, b) => a - b);
    assert.ok(gaps[0] < 1000, `INTERVAL=0.25: shortest gap between attempts ${gaps[0]} ms (the default interval alone is 1000 ms)`);
    assert.match(r.stderr, /last result: HTTP 503/);
    assert.match(r.stderr, new RegExp(`\\(${n} attempt\\(s\\)\\)`));
  });

  it("fails within its timeout when nothing listens on the port", async function () {
    const port = await freePort();
    const r = await runScript("wait-healthy.sh", [`http://127.0.0.1:${port}/`, "1"], {
      env: envWithoutProxy({ INTERVAL: "0.2" }),
    });
    assert.equal(r.code, 1, describeResult(r));
    assert.ok(r.ms >= 1000 && r.ms < 1000 + 200 + 2000 + 5000, `took ${r.ms} ms`);
    assert.match(r.stderr, /last result: curl exit 7/);
  });

  it("rejects bad arguments with a usage line (exit 2)", async function () {
    for (const args of [[], ["http://127.0.0.1:1/"], ["http://127.0.0.1:1/", "soon"], ["http://127.0.0.1:1/", "0"]]) {
      const r = await runScript("wait-healthy.sh", args);
      assert.equal(r.code, 2, describeResult(r));
      assert.match(r.stderr, /^wait-healthy: usage: wait-healthy\.sh URL TIMEOUT_SECONDS/);
    }
    const bad = await runScript("wait-healthy.sh", ["http://127.0.0.1:1/", "1"], { env: envWithoutProxy({ INTERVAL: "1s" }) });
    assert.equal(bad.code, 2, describeResult(bad));
  });
});
