// Each color runs its own env: an env change or a secret rotation prepared on the passive
// color (what the release helper's reconfigure writes) passes the live guard, touches no
// input of the live color's containers, reaches the passive color's container, env file and
// migration, moves to the workers with the deploy, and a rollback brings the old color back
// with its old env (mock runtime, production stack, each stage guarded by the last one).

import assert from "node:assert/strict";
import { evaluate, type Evaluation, type StackConfig } from "../../offline/evaluate";
import { plain } from "../../harness/declaredRun";
import { appSecrets, steadyBlue, withRelease } from "../support/stacks";

const LIVE_TAG = "2020.08.06-1";
const OLD_ENV = { DJANGO_SETTINGS_MODULE: "portal.settings.production" };
const NEW_ENV = { DJANGO_SETTINGS_MODULE: "portal.settings.production", FEATURE_X: "on" };

/** The stack after `reconfigure`: green gets the live tag, app.env (with FEATURE_X) and the new secret. */
function reconfigured(): StackConfig {
    const config = withRelease(steadyBlue(), { tags: { green: LIVE_TAG }, passive: "green", env: { blue: OLD_ENV, green: NEW_ENV } });
    (config["portal:app"] as { env: Record<string, string> }).env = { ...NEW_ENV };
    return config;
}
const OLD_SECRETS = appSecrets({ DATABASE_PASSWORD: "old-pw" });
const NEW_SECRETS = appSecrets({ DATABASE_PASSWORD: "new-pw" }, { blue: { DATABASE_PASSWORD: "old-pw" } });

const byName = (e: Evaluation, name: string) => [...e.resources.values()].find((r) => r.name === name)!;
const envs = (e: Evaluation, name: string) => plain(byName(e, name).inputs.envs) as string[];

describe("per-color env: an env change and a secret rotation roll out like a tag", function () {
    this.timeout(60000);
    let steady: Evaluation;
    let prepared: Evaluation;
    let deployed: Evaluation;
    let rolledBack: Evaluation;

    before(async () => {
        steady = await evaluate(steadyBlue(), OLD_SECRETS);
        // Each stage is guarded by the state the previous one deployed: a refusal throws here.
        prepared = await evaluate(reconfigured(), NEW_SECRETS, { lastDeployed: steady.outputs.deployedState });
        const live = withRelease(reconfigured(), { live: "green", previous: { color: "blue", tag: LIVE_TAG, by: "deploy" } });
        deployed = await evaluate(live, NEW_SECRETS, { lastDeployed: prepared.outputs.deployedState });
        const back = withRelease(live, { live: "blue", passive: "blue", previous: { color: "green", tag: LIVE_TAG, by: "rollback" } });
        rolledBack = await evaluate(back, NEW_SECRETS, { lastDeployed: deployed.outputs.deployedState });
    });

    it("prepare: every input of the live color's containers, env files and migration is as before", () => {
        for (const s of ["web1", "web2", "web3"]) {
            for (const n of [`${s}-blue-container`, `${s}-blue-env`]) assert.deepEqual(byName(prepared, n).inputs, byName(steady, n).inputs, n);
        }
        assert.deepEqual(byName(prepared, "web1-blue-migrate").inputs, byName(steady, "web1-blue-migrate").inputs);
        for (const w of ["web1-djobs", "web1-cron", "web3-djobs"]) assert.deepEqual(byName(prepared, w).inputs, byName(steady, w).inputs, w);
    });

    it("prepare: the passive color's container, env file and migration get its new env and secret", () => {
        const lines = ["DJANGO_SETTINGS_MODULE=portal.settings.production", "FEATURE_X=on", "DATABASE_PASSWORD=new-pw"];
        assert.deepEqual(envs(steady, "web2-green-container"), ["DJANGO_SETTINGS_MODULE=portal.settings.production", "DATABASE_PASSWORD=old-pw"]);
        assert.deepEqual(envs(prepared, "web2-green-container"), lines);
        assert.equal(plain(byName(prepared, "web2-green-env").inputs.stdin), lines.map((l) => `${l}\n`).join(""));
        assert.equal(plain(byName(prepared, "web1-green-migrate").inputs.stdin), lines.map((l) => `${l}\n`).join(""));
        assert.match(String(byName(prepared, "web1-green-migrate").inputs.create), / registry\.example\.com\/portal:2020\.08\.06-1 python manage\.py migrate/);
    });

    it("deploy: the workers move to green's env; rollback: blue is live with its old env, never replaced", () => {
        assert.ok(envs(deployed, "web1-djobs").includes("FEATURE_X=on"));
        for (const s of ["web1", "web2", "web3"]) assert.deepEqual(byName(rolledBack, `${s}-blue-container`).inputs, byName(steady, `${s}-blue-container`).inputs);
        assert.deepEqual(envs(rolledBack, "web1-djobs"), envs(steady, "web1-djobs"));
        assert.deepEqual(envs(rolledBack, "web1-green-container"), envs(prepared, "web1-green-container"));
    });

    it("the live guard refuses the same change made to the live color's own env", async () => {
        const handEdit = withRelease(steadyBlue(), { env: { blue: NEW_ENV, green: OLD_ENV } });
        await assert.rejects(evaluate(handEdit, OLD_SECRETS, { lastDeployed: steady.outputs.deployedState }), /color blue served live traffic .*its env, secrets, ports or labels/);
        const rotated = appSecrets({ DATABASE_PASSWORD: "new-pw" }, { green: { DATABASE_PASSWORD: "old-pw" } });
        await assert.rejects(evaluate(steadyBlue(), rotated, { lastDeployed: steady.outputs.deployedState }), /color blue served live traffic/);
    });
});
