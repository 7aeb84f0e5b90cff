// The release pipeline as a pure function (lib/release/pipeline.ts): a stack file's text in,
// the report and the edited text out, no file touched; bin/release.ts only reads and writes.

import assert from "node:assert/strict";
import { releasePipeline, type ReleaseCommand } from "../../lib/release/pipeline";
import { NEW_TAG, STEADY, withLines, GREEN_TAG } from "./fixtures";

const command = (verb: ReleaseCommand["verb"], argument?: string, dryRun = false): ReleaseCommand => ({ verb, argument, stack: "production", dryRun });

describe("release pipeline (pure: text in, edited text out)", () => {
    it("prepare: the edited text to write, the report, and the refusal to give if the file changed meanwhile", () => {
        const r = releasePipeline(command("prepare", NEW_TAG), STEADY, "Pulumi.production.yaml");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.write?.text, withLines(STEADY, { [`      green: "${GREEN_TAG}"`]: `      green: "${NEW_TAG}"`, "    passive: blue": "    passive: green" }));
        assert.match(r.stdout, /^prepare 2020\.08\.08-1 on stack production \(Pulumi\.production\.yaml\)\n/);
        assert.equal(r.write?.ifChanged.code, 1);
        assert.match(r.write!.ifChanged.stderr, /^cannot prepare: Pulumi\.production\.yaml changed while it was being edited; run the command again\n$/);
    });

    it("a dry run, status, nothing to change and a refusal write nothing", () => {
        for (const [c, code] of [[command("prepare", NEW_TAG, true), 0], [command("status"), 0], [command("abort"), 1]] as const) {
            const r = releasePipeline(c, STEADY, "Pulumi.production.yaml");
            assert.equal(r.code, code, `${c.verb}: ${r.stderr}`);
            assert.equal(r.write, undefined, c.verb);
        }
        const prepared = releasePipeline(command("prepare", NEW_TAG), STEADY, "f").write!.text;
        const again = releasePipeline(command("canary", "0"), prepared, "f");
        assert.match(again.stdout, /nothing to change/);
        assert.equal(again.write, undefined);
    });
});
