// CLI behaviour people expect, for both bin/plan.ts and bin/release.ts: help, -s and
// --stack, --flag=value and --flag value, a repeated flag refused, "did you mean",
// paths relative to the caller's directory, clean JSON through npm, a closed pipe.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PLAN_USAGE, runPlan } from "../../bin/plan";
import { runRelease } from "../../bin/release";
import { REPO } from "../support/stacks";

const PRODUCTION = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8");
/** An environment as a plain shell gives: not inside an npm script. */
const SHELL_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") && k !== "INIT_CWD"));

function project(files: Record<string, string> = { "Pulumi.production.yaml": PRODUCTION, "Pulumi.staging.yaml": PRODUCTION }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-cli-"));
    for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
}

describe("plan and release CLI conventions", function () {
    this.timeout(120000);
    const dirs: string[] = [];
    const dir = (files?: Record<string, string>) => {
        const d = project(files);
        dirs.push(d);
        return d;
    };
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("--help, -h and help print the usage on stdout, exit 0 (both tools)", async () => {
        const d = dir();
        for (const argv of [["--help"], ["-h"], ["help"]]) {
            const p = await runPlan(argv, d, SHELL_ENV);
            assert.deepEqual(p, { code: 0, stdout: PLAN_USAGE, stderr: "" });
            const r = runRelease(argv, d);
            assert.equal(r.code, 0);
            assert.match(r.stdout, /^usage: npm run release -- <verb> \[arg\] --stack <name> \[--dry-run\]\n/);
        }
    });

    it("-s, --stack x and --stack=x mean the same for plan and release", async () => {
        const d = dir();
        const plans = [];
        // One at a time: the mock runtime is process-global.
        for (const a of [["-s", "production"], ["--stack", "production"], ["--stack=production"], ["-s=production"]]) plans.push(await runPlan([...a, "--json"], d, SHELL_ENV));
        for (const p of plans) assert.deepEqual(p, plans[0]);
        assert.equal(plans[0].code, 0, plans[0].stderr);
        const releases = [["-s", "production"], ["--stack", "production"], ["--stack=production"]].map((a) => runRelease(["status", ...a], d));
        for (const r of releases) assert.deepEqual(r, releases[0]);
        assert.equal(releases[0].code, 0);
    });

    it("plan: repeated flag, mistyped flag and stack, stray word: exit 2 with one line and the usage", async () => {
        const d = dir();
        const first = async (argv: string[]) => {
            const r = await runPlan(argv, d, SHELL_ENV);
            assert.equal(r.code, 2, argv.join(" "));
            assert.equal(r.stdout, "");
            assert.ok(r.stderr.endsWith(PLAN_USAGE));
            return r.stderr.split("\n")[0];
        };
        assert.equal(await first(["-s", "production", "--stack=staging"]), "--stack is given twice (production and staging); allowed: once");
        assert.equal(await first(["-s", "production", "--json", "--json"]), "--json is given twice; allowed: once");
        assert.equal(await first(["-s", "production", "--jsn"]), "unknown option --jsn; did you mean --json?");
        assert.equal(await first(["-s", "prod"]), `no stack prod: no Pulumi.prod.yaml in ${d}; did you mean production? (stacks: production, staging)`);
        assert.equal(await first(["-s", "stagin"]), `no stack stagin: no Pulumi.stagin.yaml in ${d}; did you mean staging? (stacks: production, staging)`);
        assert.equal(await first(["json", "-s", "production"]), "unexpected argument json; did you mean --json?");
        assert.equal(await first([]), "--stack <name> is required (stacks: production, staging)");
    });

    it("--compare is relative to the caller's directory (INIT_CWD under npm run plan), else to the working directory", async () => {
        const d = dir({ "Pulumi.production.yaml": PRODUCTION, "reviews/before.yaml": PRODUCTION.replace("live: blue", "live: green") });
        const npmEnv = { ...SHELL_ENV, npm_lifecycle_event: "plan", npm_config_loglevel: "silent", INIT_CWD: path.join(d, "reviews") };
        const viaNpm = await runPlan(["-s", "production", "--compare", "before.yaml"], d, npmEnv);
        assert.equal(viaNpm.code, 0, viaNpm.stderr);
        assert.match(viaNpm.stdout, /^preview from before\.yaml \(offline model/m);
        const direct = await runPlan(["-s", "production", "--compare", "reviews/before.yaml"], d, SHELL_ENV);
        assert.equal(direct.code, 0, direct.stderr);
        const missing = await runPlan(["-s", "production", "--compare", "before.yaml"], d, SHELL_ENV);
        assert.equal(missing.code, 2);
        assert.equal(missing.stderr.split("\n")[0], `--compare before.yaml: no file ${path.join(d, "before.yaml")}`);
    });

    it("a YAML error names the file (plan and release)", async () => {
        const d = dir({ "Pulumi.production.yaml": PRODUCTION.replace("  portal:ssh:\n", "  portal:ssh:\n   - oops: [\n") });
        const p = await runPlan(["-s", "production"], d, SHELL_ENV);
        assert.equal(p.code, 1);
        assert.match(p.stderr, /^Pulumi\.production\.yaml is not valid YAML: .*line \d+/);
        const r = runRelease(["status", "-s", "production"], d);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /Pulumi\.production\.yaml is not valid YAML: .*line \d+/);
    });

    it("a closed pipe (| head) ends quietly: no stack trace, exit status kept (the emit both CLIs end with)", () => {
        // 2 MB: far more than a pipe holds, so the writer meets the closed pipe.
        const script = (emit: string) =>
            `const { emit } = require(${JSON.stringify(path.join(REPO, "lib", "cli.ts"))}); ${emit}({ code: 3, stdout: "x".repeat(2 << 20), stderr: "" });`;
        const run = (emit: string) =>
            spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" -r ts-node/register/transpile-only -e '${script(emit)}' | head -c 20 >/dev/null`], {
                cwd: REPO,
                encoding: "utf8",
                env: { ...SHELL_ENV, TS_NODE_PROJECT: path.join(REPO, "tsconfig.json") },
            });
        const quiet = run("emit");
        assert.equal(quiet.stderr, "");
        assert.equal(quiet.status, 3);
        // Without the handler the same write ends in an EPIPE stack trace: the test can fail.
        const plain = run("((r) => process.stdout.write(r.stdout))");
        assert.match(plain.stderr, /EPIPE/);
    });

    it("npm run -s plan -- --json is clean JSON; without -s the plan says so on stderr", async () => {
        const silent = spawnSync("npm", ["run", "-s", "plan", "--", "-s", "production", "--json"], { cwd: REPO, encoding: "utf8", env: { ...SHELL_ENV } });
        assert.equal(silent.status, 0, silent.stderr);
        assert.equal(JSON.parse(silent.stdout).stack, "production");
        assert.equal(silent.stderr, "");
        // What npm passes without -s (npm 11: no npm_config_loglevel; with -s it is "silent").
        const loud = await runPlan(["-s", "production", "--json"], REPO, { ...SHELL_ENV, npm_lifecycle_event: "plan" });
        assert.equal(loud.code, 0, loud.stderr);
        assert.equal(loud.stderr, "note: npm printed its banner on stdout before the JSON; for clean JSON run npm run -s plan -- … --json\n");
    });
});
