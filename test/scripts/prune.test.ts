// scripts/prune.sh on the real Docker engine: 7 releases (distinct images, a compose file
// each, written by write-compose.sh), keep 5; an old image still used by a container stays,
// and so does another repository's.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { docker, ensureTestImage, TEST_IMAGE } from "../../harness/docker";
import { describeResult, makeTempDir, removeTempDir, runScript } from "../../harness/run";

const REPO = `portal-prune${process.pid}`;
const OTHER = `portal-prune-other${process.pid}`;
const TAGS = ["r1", "r2", "r3", "r4", "r5", "r6", "r7"];
const USER_CONTAINER = `portal-prune-user-${process.pid}`;

async function makeImage(repo: string, tag: string): Promise<string> {
    const src = `portal-prune-src-${process.pid}-${tag}`;
    await docker(["rm", "-f", src]);
    assert.equal((await docker(["create", "--name", src, TEST_IMAGE])).code, 0);
    const r = await docker(["commit", "--change", `ENV PORTAL_VERSION=${tag}`, src, `${repo}:${tag}`]);
    await docker(["rm", "-f", src]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
}

const tagsOf = async (repo: string) =>
    (await docker(["image", "ls", "--format", "{{.Tag}}", repo])).stdout.split("\n").filter(Boolean).sort();

describe("scripts/prune.sh (real Docker)", function () {
    this.timeout(90_000);
    let dir: string;

    before(async function () {
        await ensureTestImage();
        for (const tag of TAGS) await makeImage(REPO, tag);
        await makeImage(OTHER, "r1");
    });
    after(async () => {
        await docker(["rm", "-f", USER_CONTAINER]);
        await docker(["rmi", "-f", ...TAGS.map((t) => `${REPO}:${t}`), `${OTHER}:r1`]);
    });
    beforeEach(() => (dir = makeTempDir("prune")));
    afterEach(() => removeTempDir(dir));

    async function release(i: number) {
        const compose = `services:\n  blue:\n    image: ${REPO}:${TAGS[i]}\n  djobs:\n    image: ${REPO}:\${PORTAL_LIVE_TAG:?run a deploy first}\n`;
        const r = await runScript("write-compose.sh", [dir, `20200807-10000${i}`], { input: compose });
        assert.equal(r.code, 0, describeResult(r));
    }

    it("keeps the last 5 releases' files and images, and any image a container uses; removes the rest", async () => {
        for (let i = 0; i < TAGS.length; i++) await release(i);
        // The deployed release is the 6th; an old release's image (r2) still runs in a container.
        fs.renameSync(path.join(dir, "docker-compose.prepared.yml"), path.join(dir, "keep.tmp"));
        fs.symlinkSync("releases/docker-compose.20200807-100005.yml", path.join(dir, "docker-compose.yml"));
        fs.renameSync(path.join(dir, "keep.tmp"), path.join(dir, "docker-compose.prepared.yml"));
        assert.equal((await docker(["create", "--name", USER_CONTAINER, `${REPO}:r2`])).code, 0);

        const r = await runScript("prune.sh", [dir, "5"], { input: `${REPO}\n` });
        assert.equal(r.code, 0, describeResult(r));
        assert.deepEqual(fs.readdirSync(path.join(dir, "releases")).sort(), [2, 3, 4, 5, 6].map((i) => `docker-compose.20200807-10000${i}.yml`));
        assert.deepEqual(await tagsOf(REPO), ["r2", "r3", "r4", "r5", "r6", "r7"]);
        assert.deepEqual(await tagsOf(OTHER), ["r1"], "another repository is never touched");
        assert.match(r.stderr, /removed image portal-prune\d+:r1/);
        assert.match(r.stderr, /kept 5 release files .* \(removed 2\), removed 1 images/);

        // Once the container is gone, the next prune removes r2; a second run changes nothing more.
        await docker(["rm", "-f", USER_CONTAINER]);
        assert.equal((await runScript("prune.sh", [dir, "5"], { input: `${REPO}\n` })).code, 0);
        assert.deepEqual(await tagsOf(REPO), ["r3", "r4", "r5", "r6", "r7"]);
        const again = await runScript("prune.sh", [dir, "5"], { input: `${REPO}\n` });
        assert.match(again.stderr, /\(removed 0\), removed 0 images/);
    });

    it("never removes what docker-compose.yml points at, even outside the last KEEP; refuses KEEP 0, no repository, or a bad one", async () => {
        for (let i = 0; i < 3; i++) await release(i);
        fs.symlinkSync("releases/docker-compose.20200807-100000.yml", path.join(dir, "docker-compose.yml"));
        const r = await runScript("prune.sh", [dir, "1"], { input: `${REPO}-none\n` });
        assert.equal(r.code, 0, describeResult(r));
        assert.deepEqual(fs.readdirSync(path.join(dir, "releases")).sort(), ["docker-compose.20200807-100000.yml", "docker-compose.20200807-100002.yml"]);
        const bad = await runScript("prune.sh", [dir, "0"], { input: `${REPO}\n` });
        assert.equal(bad.code, 2);
        assert.equal((await runScript("prune.sh", [dir, "1"], { input: "" })).code, 2, "no repository");
        const injected = await runScript("prune.sh", [dir, "1"], { input: "busybox; rm -rf /\n" });
        assert.equal(injected.code, 2);
        assert.match(injected.stderr, /^prune: not a repository on stdin: busybox; rm -rf \//m);
    });
});
