// run-migrations.sh against the real docker daemon and the local busybox image.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { docker, ensureTestImage, TEST_IMAGE } from "../../harness/docker";
import { describeResult, makeTempDir, removeTempDir, runScript, sleep } from "../../harness/run";

describe("scripts/run-migrations.sh (real docker)", function () {
  this.timeout(60_000);
  const name = `portal-test-migrations-${process.pid}`;
  let tmp: string;

  // TMPDIR points into a private dir so we can watch the env file come and go.
  const migrate = (args: string[], input?: string) =>
    runScript("run-migrations.sh", [name, TEST_IMAGE, ...args], {
      input,
      env: { ...process.env, TMPDIR: tmp },
      timeoutMs: 45_000,
    });

  before(async function () {
    await ensureTestImage();
  });

  beforeEach(function () {
    tmp = makeTempDir("migrations");
  });

  afterEach(async function () {
    await docker(["rm", "-f", name]);
    removeTempDir(tmp);
  });

  it("passes when the container exits 0 and shows its output", async function () {
    const r = await migrate(["sh", "-c", "echo migrated; exit 0"]);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^migrated$/m);
    assert.deepEqual(fs.readdirSync(tmp), [], "env file removed");
    const ps = await docker(["ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Names}}"]);
    assert.equal(ps.stdout.trim(), "", "container removed (--rm)");
  });

  it("fails with the container's exit status", async function () {
    const r = await migrate(["sh", "-c", "exit 1"]);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /run-migrations: migrations failed with exit 1/);
    const r3 = await migrate(["sh", "-c", "echo boom >&2; exit 3"]);
    assert.equal(r3.code, 3, describeResult(r3));
    assert.match(r3.stderr, /boom/);
    assert.match(r3.stderr, /migrations failed with exit 3/);
    assert.deepEqual(fs.readdirSync(tmp), []);
  });

  it("passes env lines from stdin to the container without printing them", async function () {
    const secret = "s3cret";
    const check = ["sh", "-c", 'test "$DB_PASSWORD" = s3cret && test "$DB_HOST" = "db.internal"'];
    const r = await migrate(check, `DB_PASSWORD=${secret}\n# comment\n\nDB_HOST=db.internal\n`);
    assert.equal(r.code, 0, describeResult(r));
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), "secret not echoed");

    // Control: the same check fails without the env, so the variable really came from stdin.
    const without = await migrate(check, "DB_HOST=db.internal\n");
    assert.equal(without.code, 1, describeResult(without));
  });

  it("keeps the env file private (mode 600) while the container runs, then deletes it", async function () {
    const running = migrate(["sh", "-c", "sleep 2"], "DB_PASSWORD=s3cret\n");
    let finished = false;
    void running.then(() => (finished = true));
    let mode: number | undefined;
    let content = "";
    // Poll until the script has created and filled the env file (mktemp, then cat), for as long
    // as the script runs: no wall-clock window a loaded machine could miss.
    while (content === "" && !finished) {
      for (const f of fs.readdirSync(tmp)) {
        try {
          mode = fs.statSync(path.join(tmp, f)).mode & 0o777;
          content = fs.readFileSync(path.join(tmp, f), "utf8");
        } catch {
          /* raced with removal */
        }
      }
      if (content === "") await sleep(20);
    }
    const r = await running;
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(mode, 0o600, "env file mode");
    assert.equal(content, "DB_PASSWORD=s3cret\n");
    assert.deepEqual(fs.readdirSync(tmp), [], "env file removed afterwards");
  });

  it("removes a leftover container with the same name first", async function () {
    // A stuck previous run that is still going.
    const leftover = await docker(["run", "-d", "--name", name, TEST_IMAGE, "sh", "-c", "sleep 60"]);
    assert.equal(leftover.code, 0, leftover.stderr);
    const r = await migrate(["sh", "-c", "exit 0"]);
    assert.equal(r.code, 0, describeResult(r));
  });

  it("removes the container when it is terminated mid-run", async function () {
    let pid = 0;
    const running = runScript("run-migrations.sh", [name, TEST_IMAGE, "sh", "-c", "sleep 60"], {
      env: { ...process.env, TMPDIR: tmp },
      onSpawn: (child) => (pid = child.pid ?? 0),
    });
    const until = Date.now() + 15_000;
    let state = "";
    while (state !== "running" && Date.now() < until) {
      await sleep(100);
      state = (await docker(["inspect", "--format", "{{.State.Status}}", name])).stdout.trim();
    }
    assert.equal(state, "running");
    process.kill(pid, "SIGTERM"); // only the script, not docker's CLI
    const r = await running;
    assert.equal(r.code, 143, describeResult(r));
    const ps = await docker(["ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Names}}"]);
    assert.equal(ps.stdout.trim(), "", "container removed");
    assert.deepEqual(fs.readdirSync(tmp), [], "env file removed");
  });

  it("refuses env lines that are not KEY=VALUE without echoing them", async function () {
    const r = await migrate(["sh", "-c", "exit 0"], "GOOD=1\nnot an assignment s3cret\n");
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /env line 2/);
    assert.ok(!r.stderr.includes("s3cret"));
    assert.deepEqual(fs.readdirSync(tmp), []);
  });

  it("prints a usage line and exits 2 on bad arguments", async function () {
    for (const args of [[], [name], ["bad/name", TEST_IMAGE]]) {
      const r = await runScript("run-migrations.sh", args);
      assert.equal(r.code, 2, describeResult(r));
      assert.match(r.stderr, /^run-migrations: usage: run-migrations\.sh CONTAINER_NAME IMAGE \[ARG\.\.\.\]/);
    }
  });
});
