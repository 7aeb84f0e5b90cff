// `npm run plan -- --stack <name> [--json]`: the offline plan, run as an operator runs it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runPlan } from "../../bin/plan";
import { REPO } from "../support/stacks";
import { PINNED_ENV } from "../release/fixtures";

const tempDirs: string[] = [];
/** A temp dir for one test's stack files, removed after the suite. */
function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-plan-"));
    tempDirs.push(dir);
    return dir;
}
after(() => {
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function plan(cwd: string, ...args: string[]) {
    const r = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(REPO, "bin", "plan.ts"), ...args], {
        cwd,
        encoding: "utf8",
        env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, "tsconfig.json") },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("offline plan CLI", function () {
    this.timeout(60000);

    it("prints the production plan as one JSON object", () => {
        const r = plan(REPO, "--stack", "production", "--json");
        assert.equal(r.code, 0, r.stderr);
        const p = JSON.parse(r.stdout);
        assert.equal(p.stack, "production");
        assert.equal(p.stage, "prepared");
        assert.match(p.note, /does not read the servers' real state/);
        assert.deepEqual(p.release, { tags: { blue: "2020.08.06-1", green: "2020.08.07-1" }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "green", canary: 0 });
        assert.deepEqual(p.servers.map((s: { name: string }) => s.name), ["web1", "web2", "web3"]);
        const [web1, web2] = p.servers;
        assert.deepEqual(web1.containers, [
            { name: "portal-blue", image: web1.containers[0].image, tag: "2020.08.06-1", protected: true },
            { name: "portal-green", image: web1.containers[1].image, tag: "2020.08.07-1", protected: false },
        ]);
        assert.deepEqual(web1.upstreams, { live: "portal_blue", passive: "portal_green" });
        assert.equal(web1.migrations.length, 2);
        assert.match(web1.migrations[1], /run-migrations\.sh portal-migrate-green registry\.example\.com\/portal:2020\.08\.07-1 python manage\.py migrate --noinput$/);
        assert.deepEqual(web2.migrations, []);
        assert.deepEqual(web1.workers.map((w: { name: string; tag: string }) => [w.name, w.tag]), [["portal-djobs", "2020.08.06-1"], ["portal-cron", "2020.08.06-1"]]);
        assert.equal(web1.liveColorFile, "/srv/portal/live-color");
    });

    it("prints a readable plan with the notifications a webhook would send", () => {
        const dir = tempDir();
        const text = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8") + "  portal:slackWebhook:\n    secure: AAABAHiddenCipherText\n";
        fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), text);
        const r = plan(dir, "--stack", "production");
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^stack production: stage prepared$/m);
        assert.match(r.stdout, /does not read the servers' real state/);
        assert.match(r.stdout, /^ {2}upstream live -> portal_blue$/m);
        // One notice per stage for the whole stack, named as the stack file names it.
        assert.match(r.stdout, /^ {2}notifications: slack\n {2}notify: production: green 2020\.08\.07-1 prepared on web1, web2, web3\n {2}notify: production: blue 2020\.08\.06-1 live on web1, web2, web3\n/m);
        assert.doesNotMatch(r.stdout, /^ {4}notify/m);
        assert.ok(!r.stdout.includes("AAABAHiddenCipherText"));
    });

    it("refuses invalid config: exit 1, the key on stderr, nothing on stdout", () => {
        const dir = tempDir();
        const text = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8").replace("live: blue", "live: purple");
        fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), text);
        const r = plan(dir, "--stack", "bad", "--json");
        assert.equal(r.code, 1);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /portal:release\.live is "purple"; allowed: blue, green/);
    });
});

describe("offline plan CLI --compare", function () {
    this.timeout(60000);

    it("lists what a deploy changes, marked like a preview, and nothing else", () => {
        const dir = tempDir();
        const before = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8");
        fs.writeFileSync(path.join(dir, "before.yaml"), before);
        fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), before.replace("    live: blue\n", "    live: green\n"));
        const r = plan(dir, "--stack", "production", "--compare", "before.yaml");
        assert.equal(r.code, 0, r.stderr);
        const preview = r.stdout.slice(r.stdout.indexOf("preview from before.yaml")).split("\n");
        assert.match(preview[0], /^preview from before\.yaml \(offline model of the engine's steps: pulumi 3\.248\.0 \(engine rules\), @pulumi\/docker 5\.0\.0, @pulumi\/command 1\.2\.1, @pulumi\/random 4\.21\.2\):$/);
        const steps = preview.slice(1, preview.findIndex((l) => l.startsWith("Resources: "))).filter((l) => /^ {2}\S/.test(l));
        assert.deepEqual(steps.slice(0, 9), [
            "  = web1-blue-container  (protect: true -> false; recorded in the state, nothing runs)",
            "  = web1-green-container  (protect: false -> true; recorded in the state, nothing runs)",
            "  +- web1-live-healthy  replace, create first",
            "  +- web1-compose-symlink  replace, create first",
            "  +- web1-route-live  replace, create first",
            "  +- web1-record-live  replace, create first",
            "  +- web1-djobs  replace, delete first",
            "  +- web1-cron  replace, delete first",
            "  +- web1-prune  replace, create first",
        ]);
        assert.ok(steps.every((l) => /^ {2}(=|\+-) web[123]-(blue-container|green-container|live-healthy|compose-symlink|route-live|record-live|djobs|cron|prune) /.test(l)), steps.join("\n"));
        assert.ok(preview.includes("Resources: +- 18 to replace, 74 unchanged"));
        assert.ok(preview.includes('          + "{\\"upstream\\":\\"portal_green\\"}"'), preview.join("\n"));
        assert.ok(preview.includes("this preview cannot know:"));
    });

    it("exits 1 with the live guard's refusal when the change would replace the live container (before the engine's own)", async () => {
        const dir = tempDir();
        const before = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8");
        fs.writeFileSync(path.join(dir, "before.yaml"), before);
        fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), before.replace("      blue:\n        DJANGO_SETTINGS_MODULE: portal.settings.production\n", "      blue:\n        DJANGO_SETTINGS_MODULE: portal.settings.production\n        FEATURE_X: \"on\"\n"));
        const r = await runPlan(["--stack", "production", "--compare", "before.yaml"], dir, {});
        assert.equal(r.code, 1);
        // The program refuses before declaring anything, as `pulumi preview` would show it; the
        // engine's own protect refusal for the same change is modelled in test/plan/engine.test.ts.
        assert.deepEqual(r.stderr.trimEnd().split("\n"), [
            "refused by the live guard (no single change may replace or delete a container that served live traffic):",
            "  color blue served live traffic in the last deployed state (live, registry.example.com/portal:2020.08.06-1); this change would replace its container (its env, secrets, ports or labels) in the same update. Legal next step: put blue's env and secrets back (release.env.blue and colorSecrets.blue; a color without release.env runs app.env and appSecrets), then change app.env or appSecrets and prepare that on the passive color (npm run release -- reconfigure).",
        ]);
    });
});
