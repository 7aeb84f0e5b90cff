// The README's preview examples are the tool's output for the walk-through on the committed
// production stack: regenerating them must give the README byte for byte.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { readmeExamples, withExamples } from "../../offline/readmeExamples";
import { REPO } from "../support/stacks";

describe("README preview examples", function () {
    this.timeout(120000);
    let examples: Record<string, string>;
    before(async () => {
        examples = await readmeExamples();
    });

    it("match what the offline preview prints now (run npm run docs:previews after a change)", async () => {
        const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
        assert.deepEqual(Object.keys(examples), ["prepare", "canary", "deploy", "rollback", "guard", "env", "secret"]);
        for (const name of Object.keys(examples)) assert.ok(readme.includes(`<!-- preview:${name} -->\n`), `README has no block ${name}`);
        assert.equal(withExamples(readme, examples), readme);
    });

    it("the walk-through's claims hold on the generated previews", async () => {
        const e = examples;
        // Prepare touches nothing live; canary only the live routes; a hand edit of the live
        // color's env is refused by the live guard; an env change and a secret rotation
        // prepared with reconfigure touch only the passive color, naming what changes.
        assert.ok(!/blue-container|route-live|djobs|cron/.test(e.prepare), e.prepare);
        assert.deepEqual(e.canary.split("\n").filter((l) => /^[~+-]/.test(l)).map((l) => l.split("  ")[0]), ["+- web1-route-live", "+- web2-route-live", "+- web3-route-live"]);
        assert.match(e.guard, /^error: refused by the live guard/m);
        assert.match(e.guard, /^error: {3}color blue served live traffic in the last deployed state/m);
        assert.ok(!/blue|route-live|djobs|cron/.test(e.env.replace(/^#.*$/gm, "")), e.env);
        assert.match(e.env, /^green: \+ FEATURE_X$/m);
        assert.ok(!/green|route-live|djobs|cron/.test(e.secret.replace(/^#.*$/gm, "")), e.secret);
        assert.match(e.secret, /^blue: ~ DATABASE_PASSWORD {2}\(holds secrets: values masked\)$/m);
    });

    it("a drifted block is detected", async () => {
        const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
        const drifted = readme.replace("+- web1-route-live  replace, create first", "~ web1-route-live  update");
        assert.notEqual(drifted, readme, "the block to drift is there");
        assert.notEqual(withExamples(drifted, examples), drifted);
    });
});
