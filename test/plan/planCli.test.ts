// `npm run plan -- --stack <name> [--json]`: the offline plan, run as an operator runs it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO } from "../support/stacks";

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
        assert.deepEqual(p.release, { tags: { blue: "2020.08.06-1", green: "2020.08.07-1" }, live: "blue", passive: "green", canary: 0 });
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
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-plan-"));
        const text = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8") + "  portal:slackWebhook:\n    secure: AAABAHiddenCipherText\n";
        fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), text);
        const r = plan(dir, "--stack", "production");
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^stack production: stage prepared$/m);
        assert.match(r.stdout, /does not read the servers' real state/);
        assert.match(r.stdout, /^ {2}upstream live -> portal_blue$/m);
        assert.match(r.stdout, /^ {2}notify: green \(2020\.08\.07-1\) prepared on web2$/m);
        assert.match(r.stdout, /^ {2}notify: blue \(2020\.08\.06-1\) live on web3$/m);
        assert.ok(!r.stdout.includes("AAABAHiddenCipherText"));
    });

    it("refuses invalid config: exit 1, the key on stderr, nothing on stdout", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-plan-"));
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
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-plan-"));
        const before = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8");
        fs.writeFileSync(path.join(dir, "before.yaml"), before);
        fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), before.replace("    live: blue\n", "    live: green\n"));
        const r = plan(dir, "--stack", "production", "--compare", "before.yaml");
        assert.equal(r.code, 0, r.stderr);
        const changes = r.stdout.slice(r.stdout.indexOf("changes from before.yaml")).trim().split("\n");
        assert.equal(changes[0], "changes from before.yaml (18 resources):");
        assert.deepEqual(changes.slice(1, 8).map((l) => l.trim()), [
            "+- web1-live-healthy  (create, triggers)",
            "+- web1-compose-symlink  (triggers)",
            "~ web1-route-live  (stdin)",
            "~ web1-record-live  (create)",
            "+- web1-djobs  (image, labels)",
            "+- web1-cron  (image, labels)",
            "+- web1-prune  (triggers)",
        ]);
        assert.ok(changes.every((l, i) => i === 0 || /^ {2}(~|\+-) web[123]-(live-healthy|compose-symlink|route-live|record-live|djobs|cron|prune) /.test(l)), changes.join("\n"));
    });
});
