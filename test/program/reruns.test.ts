// Which steps the real `pulumi up` would run after a config change, by the command
// provider's rules (pulumi-command@v1.2.1, cited in components/target.ts): a step runs again
// when its `triggers` change (replace: `create` runs) and runs its `update` on any other
// input change. Every step's update is the no-op `true`, so "what runs" is exactly "whose
// triggers changed". CopyToRemote copies only on a new source hash or remotePath.

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { evaluate, type Evaluation, type StackConfig } from "../../offline/evaluate";
import { appSecrets, steadyBlue, withRelease } from "../support/stacks";

const COMMANDS = ["command:remote:Command", "command:local:Command"];
const KEY_A = { "portal:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-a\n-----END OPENSSH PRIVATE KEY-----" };
const KEY_B = { "portal:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-b\n-----END OPENSSH PRIVATE KEY-----" };

/** Names of the steps that would run a command (their triggers changed, or they are new). */
function stepsThatRun(before: Evaluation, after: Evaluation): string[] {
    const run: string[] = [];
    for (const [urn, r] of after.resources) {
        if (!COMMANDS.includes(r.type)) continue;
        const old = before.resources.get(urn);
        const replaced = !old || !isDeepStrictEqual(old.inputs.triggers, r.inputs.triggers);
        // Without an `update`, any other input change runs `create` again (the release stamp has none: only triggers and create).
        const updatedRunsCreate = r.inputs.update === undefined && old && !isDeepStrictEqual(old.inputs, r.inputs);
        if (replaced || updatedRunsCreate) run.push(r.name);
    }
    return run.sort();
}

function withSsh(config: StackConfig, ssh: Record<string, unknown>): StackConfig {
    return { ...structuredClone(config), "portal:ssh": { ...(config["portal:ssh"] as object), ...ssh } };
}

describe("what re-runs on a config change (mock runtime, production stack)", function () {
    this.timeout(60000);
    const prepared = () => withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" });

    it("every step but the release stamp has the no-op update", async () => {
        const e = await evaluate(prepared());
        const without = [...e.resources.values()].filter((r) => COMMANDS.includes(r.type) && r.inputs.update !== "true").map((r) => r.name);
        assert.deepEqual(without, ["portal-release-stamp"]);
    });

    it("rotating portal:sshPrivateKey re-runs nothing and copies nothing (connection is no trigger)", async () => {
        const before = await evaluate(prepared(), KEY_A);
        const after = await evaluate(prepared(), KEY_B);
        assert.deepEqual(stepsThatRun(before, after), []);
        const remote = [...after.resources.values()].filter((r) => r.inputs.connection);
        assert.ok(remote.length > 30);
        for (const r of remote) assert.ok(!isDeepStrictEqual(r.inputs.connection, before.resources.get(r.urn)!.inputs.connection), `the new key reaches ${r.name}`);
        for (const r of after.resources.values()) {
            if (r.type === "command:remote:CopyToRemote") assert.deepEqual(r.inputs.source, before.resources.get(r.urn)!.inputs.source);
        }
    });

    it("changing ssh.user or ssh.port re-runs nothing: no old migration, no switch, no nginx reload", async () => {
        const before = await evaluate(prepared());
        assert.deepEqual(stepsThatRun(before, await evaluate(withSsh(prepared(), { user: "portal" }))), []);
        assert.deepEqual(stepsThatRun(before, await evaluate(withSsh(prepared(), { port: 2222 }))), []);
    });

    it("a secret rotated on the passive color re-runs that color's migration, env file and container only", async () => {
        const before = await evaluate(prepared(), appSecrets({ DATABASE_PASSWORD: "one" }));
        const after = await evaluate(prepared(), appSecrets({ DATABASE_PASSWORD: "two" }, { blue: { DATABASE_PASSWORD: "one" } }));
        const run = stepsThatRun(before, after);
        assert.deepEqual(run.sort(), ["web1-green-env", "web1-green-healthy", "web1-green-migrate", "web2-green-env", "web2-green-healthy", "web3-green-env", "web3-green-healthy"]);
    });

    it("a changed app.env alone re-runs nothing: a pinned color takes it only when prepared again", async () => {
        const before = await evaluate(prepared());
        const edited = structuredClone(prepared());
        (edited["portal:app"] as { env: Record<string, string> }).env.FEATURE_X = "on";
        assert.deepEqual(stepsThatRun(before, await evaluate(edited)), []);
    });

    it("a prepare runs the new color's migration, its health waits and the passive switches, nothing of the live color", async () => {
        const before = await evaluate(steadyBlue());
        const run = stepsThatRun(before, await evaluate(prepared()));
        assert.ok(run.includes("web1-green-migrate"));
        assert.ok(!run.includes("web1-blue-migrate"));
        for (const s of ["web1", "web2", "web3"]) {
            assert.ok(run.includes(`${s}-route-passive`) && run.includes(`${s}-green-healthy`), s);
            assert.ok(!run.includes(`${s}-route-live`) && !run.includes(`${s}-blue-healthy`) && !run.includes(`${s}-router`), s);
        }
    });
});
