// `npm run plan -- --stack <name> --steps`: the rollout plan itself, printed for review.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runPlan } from "../../bin/plan";
import { readStackFile, validateStackFile } from "../../offline/plan";
import { planRollout } from "../../lib/plan/rollout";
import { REPO } from "../support/stacks";

describe("plan --steps", () => {
    it("prints every step of the production plan once, grouped by host, in plan order, with what it waits for", async () => {
        const r = await runPlan(["--stack", "production", "--steps"], REPO, {});
        assert.equal(r.code, 0, r.stderr);
        const file = readStackFile(path.join(REPO, "Pulumi.production.yaml"));
        const plan = planRollout(validateStackFile(file), { stack: "production", notices: file.secrets["portal:slackWebhook"] !== undefined });
        const printed = [...r.stdout.matchAll(/^ {2}([a-z0-9-]+): /gm)].map((m) => m[1]);
        const byHost = (host: string | undefined) => plan.steps.filter((s) => ("host" in s ? s.host : undefined) === host).map((s) => s.id);
        assert.deepEqual(printed, [...plan.hosts.flatMap((h) => byHost(h.name)), ...byHost(undefined)]);
        assert.match(r.stdout, /^server web1 \(10\.0\.0\.11\): \d+ steps$/m);
        assert.match(r.stdout, /^ {2}web1-route-live: bash \/srv\/portal\/scripts\/switch-state\.sh \/etc\/nginx\/portal\/live\.state\n {6}stdin: \d+ bytes, sha256 [0-9a-f]{12}\n {6}waits for: web1-scripts, web1-live-healthy, web1-compose-symlink/m);
        assert.match(r.stdout, /^ {2}web1-green-migrate: .*\n {6}stdin: <green envFile>$/m, "an env is named, never printed");
    });

    it("never prints a secret of the stack file, nor the offline stand-in for one", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-steps-"));
        try {
            const secrets = "  portal:slackWebhook:\n    secure: v1:c2xhY2std2ViaG9vaw==\n  portal:appSecrets:\n    DATABASE_PASSWORD:\n      secure: v1:ZGF0YWJhc2UtcGFzc3dvcmQ=\n";
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), fs.readFileSync(path.join(REPO, "Pulumi.yaml")));
            fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8") + secrets);
            const r = await runPlan(["--stack", "production", "--steps"], dir, {});
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /portal-notify-live: Slack notice/, "the webhook turns the notices on");
            for (const c of ["c2xhY2std2ViaG9vaw", "ZGF0YWJhc2UtcGFzc3dvcmQ", "DATABASE_PASSWORD", "not decrypted offline"]) assert.ok(!r.stdout.includes(c), `${c} printed`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("goes alone: with --json or --compare it is a usage error", async () => {
        for (const extra of [["--json"], ["--compare", "Pulumi.production.yaml"]]) {
            const r = await runPlan(["--stack", "production", "--steps", ...extra], REPO, {});
            assert.equal(r.code, 2);
            assert.match(r.stderr, /--steps goes alone/);
        }
    });
});
