// The local fixture image portal-test:busybox: built without a registry,
// idempotent, and able to run `sh -c` and busybox httpd.
import assert from "node:assert/strict";
import { BUILD_SCRIPT, docker, ensureTestImage, TEST_IMAGE } from "../../harness/docker";
import { freePort, httpGet } from "../../harness/http";
import { describeResult, run, sleep } from "../../harness/run";

describe("test/fixtures/build-test-image.sh (portal-test:busybox)", function () {
  this.timeout(60_000);
  const name = `portal-test-httpd-${process.pid}`;

  before(async function () {
    await ensureTestImage();
  });
  after(async function () {
    await docker(["rm", "-f", name]);
  });

  it("skips the build when the image exists (same image id)", async function () {
    const id = (await docker(["image", "inspect", "--format", "{{.Id}}", TEST_IMAGE])).stdout.trim();
    assert.match(id, /^sha256:/);
    const r = await run(BUILD_SCRIPT, []);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stderr, /already exists/);
    const after = (await docker(["image", "inspect", "--format", "{{.Id}}", TEST_IMAGE])).stdout.trim();
    assert.equal(after, id);
    const bad = await run(BUILD_SCRIPT, ["--bogus"]);
    assert.equal(bad.code, 2, describeResult(bad));
  });

  it("runs sh -c with the usual applets on PATH", async function () {
    const r = await docker(["run", "--rm", TEST_IMAGE, "sh", "-c", 'echo "$((6 * 7))" | tee /tmp/x && cat /tmp/x | wc -l && which wget']);
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stdout, "42\n1\n/usr/bin/wget\n");
  });

  it("serves files with busybox httpd on a published 127.0.0.1 port", async function () {
    const port = await freePort();
    const start = await docker([
      "run", "-d", "--name", name, "-p", `127.0.0.1:${port}:8080`, TEST_IMAGE,
      "sh", "-c", "mkdir -p /tmp/www/healthz && echo green > /tmp/www/index.html && echo ok > /tmp/www/healthz/index.html && exec httpd -f -p 8080 -h /tmp/www",
    ]);
    assert.equal(start.code, 0, describeResult(start));
    let body = "";
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      try {
        const res = await httpGet(`http://127.0.0.1:${port}/`);
        if (res.status === 200) {
          body = res.body;
          break;
        }
      } catch {
        /* not up yet */
      }
      await sleep(100);
    }
    assert.equal(body, "green\n");
    const health = await httpGet(`http://127.0.0.1:${port}/healthz/`);
    assert.equal(health.status, 200);
    assert.equal(health.body, "ok\n");
    assert.equal((await httpGet(`http://127.0.0.1:${port}/missing`)).status, 404);
  });
});
