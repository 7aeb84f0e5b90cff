// write-compose.sh, promote-compose.sh and record-live.sh in a temp deploy dir.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describeResult, makeTempDir, removeTempDir, runScript } from "../../harness/run";

const composeV1 = "services:\n  blue:\n    image: portal:1\n";
const composeV2 = "services:\n  green:\n    image: portal:2\n    environment:\n      A: \"$${X}\"\n";

describe("scripts/write-compose.sh, promote-compose.sh, record-live.sh", function () {
  this.timeout(15_000);
  let dir: string;

  const entries = (sub = "") => fs.readdirSync(path.join(dir, sub)).sort();
  const read = (rel: string) => fs.readFileSync(path.join(dir, rel), "utf8");
  const link = (rel: string) => fs.readlinkSync(path.join(dir, rel));

  beforeEach(function () {
    dir = makeTempDir("deploy");
  });
  afterEach(function () {
    removeTempDir(dir);
  });

  describe("write-compose.sh", function () {
    it("stores the release file and points docker-compose.prepared.yml at it (relative link)", async function () {
      const r = await runScript("write-compose.sh", [dir, "20250101-1.a_b"], { input: composeV1 });
      assert.equal(r.code, 0, describeResult(r));
      assert.equal(read("releases/docker-compose.20250101-1.a_b.yml"), composeV1);
      assert.ok(fs.lstatSync(path.join(dir, "docker-compose.prepared.yml")).isSymbolicLink());
      assert.equal(link("docker-compose.prepared.yml"), "releases/docker-compose.20250101-1.a_b.yml");
      assert.equal(read("docker-compose.prepared.yml"), composeV1);
      assert.deepEqual(entries(), ["docker-compose.prepared.yml", "releases"]);
      assert.deepEqual(entries("releases"), ["docker-compose.20250101-1.a_b.yml"]);

      // The whole dir can move (relative link still resolves).
      const moved = `${dir}-moved`;
      fs.renameSync(dir, moved);
      try {
        assert.equal(fs.readFileSync(path.join(moved, "docker-compose.prepared.yml"), "utf8"), composeV1);
      } finally {
        fs.renameSync(moved, dir);
      }
    });

    it("is idempotent and a new stamp re-points the link without touching older releases", async function () {
      for (let i = 0; i < 2; i++) {
        const r = await runScript("write-compose.sh", [dir, "s1"], { input: composeV1 });
        assert.equal(r.code, 0, describeResult(r));
      }
      assert.deepEqual(entries("releases"), ["docker-compose.s1.yml"]);
      const r2 = await runScript("write-compose.sh", [dir, "s2"], { input: composeV2 });
      assert.equal(r2.code, 0, describeResult(r2));
      assert.equal(link("docker-compose.prepared.yml"), "releases/docker-compose.s2.yml");
      assert.equal(read("docker-compose.prepared.yml"), composeV2);
      assert.equal(read("releases/docker-compose.s1.yml"), composeV1);
      assert.deepEqual(entries(), ["docker-compose.prepared.yml", "releases"]);
      assert.deepEqual(entries("releases"), ["docker-compose.s1.yml", "docker-compose.s2.yml"]);
    });

    it("rejects a bad STAMP (exit 2) and empty input (exit 1) without changing anything", async function () {
      await runScript("write-compose.sh", [dir, "s1"], { input: composeV1 });
      for (const stamp of ["a/b", "../x", "", "a b", "s$(id)"]) {
        const r = await runScript("write-compose.sh", [dir, stamp], { input: composeV2 });
        assert.equal(r.code, 2, `${stamp}: ${describeResult(r)}`);
        assert.match(r.stderr, /^write-compose: usage: write-compose\.sh DIR STAMP/);
      }
      const empty = await runScript("write-compose.sh", [dir, "s2"], { input: "" });
      assert.equal(empty.code, 1, describeResult(empty));
      assert.match(empty.stderr, /empty compose file/);
      assert.equal(link("docker-compose.prepared.yml"), "releases/docker-compose.s1.yml");
      assert.deepEqual(entries("releases"), ["docker-compose.s1.yml"]);
      assert.deepEqual(entries(), ["docker-compose.prepared.yml", "releases"]);
    });
  });

  describe("promote-compose.sh", function () {
    it("fails clearly when nothing has been prepared", async function () {
      const r = await runScript("promote-compose.sh", [dir]);
      assert.equal(r.code, 1, describeResult(r));
      assert.match(r.stderr, /promote-compose: no prepared compose file/);
      assert.deepEqual(entries(), []);
    });

    it("points docker-compose.yml at the prepared release, independently of later prepares", async function () {
      await runScript("write-compose.sh", [dir, "s1"], { input: composeV1 });
      const p1 = await runScript("promote-compose.sh", [dir]);
      assert.equal(p1.code, 0, describeResult(p1));
      assert.equal(link("docker-compose.yml"), "releases/docker-compose.s1.yml");
      assert.equal(read("docker-compose.yml"), composeV1);

      // Preparing s2 must not change what is live until it is promoted.
      await runScript("write-compose.sh", [dir, "s2"], { input: composeV2 });
      assert.equal(link("docker-compose.yml"), "releases/docker-compose.s1.yml");
      const p2 = await runScript("promote-compose.sh", [dir]);
      assert.equal(p2.code, 0, describeResult(p2));
      assert.equal(link("docker-compose.yml"), "releases/docker-compose.s2.yml");
      assert.equal(read("docker-compose.yml"), composeV2);

      const again = await runScript("promote-compose.sh", [dir]);
      assert.equal(again.code, 0, describeResult(again));
      assert.equal(link("docker-compose.yml"), "releases/docker-compose.s2.yml");
      assert.deepEqual(entries(), ["docker-compose.prepared.yml", "docker-compose.yml", "releases"]);
    });

    it("replaces a legacy regular docker-compose.yml and refuses a dangling prepared link", async function () {
      fs.writeFileSync(path.join(dir, "docker-compose.yml"), "legacy\n");
      await runScript("write-compose.sh", [dir, "s1"], { input: composeV1 });
      const p = await runScript("promote-compose.sh", [dir]);
      assert.equal(p.code, 0, describeResult(p));
      assert.equal(link("docker-compose.yml"), "releases/docker-compose.s1.yml");

      // A prepared link whose release file vanished must not be promoted.
      await runScript("write-compose.sh", [dir, "gone"], { input: composeV2 });
      fs.rmSync(path.join(dir, "releases", "docker-compose.gone.yml"));
      const d = await runScript("promote-compose.sh", [dir]);
      assert.equal(d.code, 1, describeResult(d));
      assert.match(d.stderr, /points to missing releases\/docker-compose\.gone\.yml/);
      assert.equal(link("docker-compose.yml"), "releases/docker-compose.s1.yml");
    });

    it("prints a usage line and exits 2 on bad arguments", async function () {
      for (const args of [[], [dir, "extra"], [""]]) {
        const r = await runScript("promote-compose.sh", args);
        assert.equal(r.code, 2, describeResult(r));
        assert.match(r.stderr, /^promote-compose: usage: promote-compose\.sh DIR/);
      }
    });
  });

  describe("record-live.sh", function () {
    it("writes live-color and .env, and overwrites them on the next switch", async function () {
      const r = await runScript("record-live.sh", [dir, "green", "1.4.2"]);
      assert.equal(r.code, 0, describeResult(r));
      assert.equal(read("live-color"), "green\n");
      assert.equal(read(".env"), "PORTAL_LIVE_COLOR=green\nPORTAL_LIVE_TAG=1.4.2\n");

      const again = await runScript("record-live.sh", [dir, "green", "1.4.2"]);
      assert.equal(again.code, 0, describeResult(again));
      assert.equal(read(".env"), "PORTAL_LIVE_COLOR=green\nPORTAL_LIVE_TAG=1.4.2\n");

      const back = await runScript("record-live.sh", [dir, "blue", "sha-0a1b2c"]);
      assert.equal(back.code, 0, describeResult(back));
      assert.equal(read("live-color"), "blue\n");
      assert.equal(read(".env"), "PORTAL_LIVE_COLOR=blue\nPORTAL_LIVE_TAG=sha-0a1b2c\n");
      assert.deepEqual(entries(), [".env", "live-color"], "no temp files left");
    });

    it("rejects a bad COLOR or TAG (exit 2) and leaves the old record", async function () {
      await runScript("record-live.sh", [dir, "blue", "1"]);
      for (const args of [[dir, "Green", "2"], [dir, "1green", "2"], [dir, "gr een", "2"], [dir, "green", "2 x"], [dir, "green", "$(id)"], [dir, "green", "a\nB=1"], [dir, "green"]]) {
        const r = await runScript("record-live.sh", args);
        assert.equal(r.code, 2, `${JSON.stringify(args)}: ${describeResult(r)}`);
        assert.match(r.stderr, /^record-live: usage: record-live\.sh DIR COLOR TAG/);
      }
      assert.equal(read("live-color"), "blue\n");
      assert.equal(read(".env"), "PORTAL_LIVE_COLOR=blue\nPORTAL_LIVE_TAG=1\n");
    });
  });
});
