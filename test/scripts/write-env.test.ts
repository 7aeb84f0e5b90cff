// write-env.sh: a color's env file for docker compose, 0600 through a temp file and a
// rename; a line that is not KEY=VALUE is refused by line number, never shown, nothing written.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeTempDir, removeTempDir, runScript } from "../../harness/run";

describe("write-env.sh", () => {
    let dir = "";
    before(() => (dir = makeTempDir("writeenv")));
    after(() => removeTempDir(dir));

    it("writes the lines 0600 and counts them", async () => {
        const file = path.join(dir, "green.env");
        const r = await runScript("write-env.sh", [file], { input: "A=1\n# note\nB=s3cret-x\n" });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(fs.readFileSync(file, "utf8"), "A=1\n# note\nB=s3cret-x\n");
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(r.stderr, `write-env: wrote ${file} (3 lines, mode 0600)\n`);
    });

    it("refuses a line that is not KEY=VALUE by its number, without its content, and writes nothing", async () => {
        const file = path.join(dir, "blue.env");
        const r = await runScript("write-env.sh", [file], { input: "A=1\nnot-an-env s3cret-y\n" });
        assert.equal(r.code, 2);
        assert.equal(r.stderr, "write-env: env line 2 on stdin is not KEY=VALUE (content not shown)\n");
        assert.deepEqual(fs.readdirSync(dir).filter((f) => f !== "green.env"), []);
    });
});
