// The product is the diff: each stage of a rollout changes exactly its own resources.
// Evaluates the real program for two configs and compares every resource's inputs by URN.

import assert from "node:assert/strict";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { diff, perServer } from "../../offline/diff";
import { steadyBlue, withMode, withRelease } from "../support/stacks";

const SECRETS = { "portal:slackWebhook": "https://hooks.slack.example/T000/B000/XXXX" };
const SERVERS = ["web1", "web2", "web3"];
const WORKERS = ["web1-djobs", "web1-cron", "web3-djobs"];
const NEW_TAG = "2020.08.07-1";


function sorted(names: string[]): string[] {
    return [...names].sort();
}

for (const mode of ["state", "reload"] as const) describe(`stage diffs (mock runtime, production stack, ${mode} mode)`, function () {
    this.timeout(60000);
    let evaluations: Record<string, Evaluation>;
    const steady = withMode(steadyBlue(), mode);
    const prepared = withRelease(steady, { tags: { green: NEW_TAG }, passive: "green" });
    // As the release helper writes it: deploy records what was live before.
    const deployed = withRelease(prepared, { live: "green", previous: { color: "blue", tag: "2020.08.06-1", by: "deploy" } });

    before(async () => {
        evaluations = {
            steady: await evaluate(steady, SECRETS),
            steadyAgain: await evaluate(steady, SECRETS),
            prepared: await evaluate(prepared, SECRETS),
            deployed: await evaluate(deployed, SECRETS),
            rolledBack: await evaluate(withRelease(deployed, { live: "blue" }), SECRETS),
            rolledBackByHelper: await evaluate(withRelease(deployed, { live: "blue", passive: "blue", previous: { color: "green", tag: NEW_TAG, by: "rollback" } }), SECRETS),
            canary: await evaluate(withRelease(prepared, { canary: 5 }), SECRETS),
        };
    });

    it("an unchanged config changes nothing", () => {
        assert.deepEqual(diff(evaluations.steady, evaluations.steadyAgain), { added: [], removed: [], changed: [] });
    });

    it("steady blue -> prepare green changes only the green pulls and containers, migrator, compose file, stamp, passive switches, and adds the one prepared notice", () => {
        assert.deepEqual(diff(evaluations.steady, evaluations.prepared), {
            added: ["portal-notify-prepared"],
            removed: [],
            changed: sorted([
                // The stack's canaries are sticky: the prepared release draws a new cohort salt.
                "portal-canary-salt",
                "portal-release-stamp",
                "web1-green-migrate",
                ...perServer(SERVERS, ["green-image", "green-container", "green-healthy", "compose", "route-passive"]),
            ]),
        });
    });

    it("prepared -> deploy changes only the live switches, live-color files, compose symlinks, workers and the live notice; the prepared notice goes", () => {
        assert.deepEqual(diff(evaluations.prepared, evaluations.deployed), {
            added: [],
            removed: ["portal-notify-prepared"],
            changed: sorted(["portal-notify-live", ...WORKERS, ...perServer(SERVERS, ["live-healthy", "compose-symlink", "route-live", "record-live", "prune"])]),
        });
    });

    it("deploy -> rollback (live: blue) changes only live routing, live-color files, symlinks, workers and the live notice (no prepared notice)", () => {
        assert.deepEqual(diff(evaluations.deployed, evaluations.rolledBack), {
            added: [],
            removed: [],
            changed: sorted(["portal-notify-live", ...WORKERS, ...perServer(SERVERS, ["live-healthy", "compose-symlink", "route-live", "record-live", "prune"])]),
        });
    });

    it("the release helper's rollback (live and passive: blue) also moves the passive upstream back, with no prepared notice", () => {
        assert.deepEqual(diff(evaluations.deployed, evaluations.rolledBackByHelper), {
            added: [],
            removed: [],
            changed: sorted(["portal-canary-salt", "portal-notify-live", ...WORKERS, ...perServer(SERVERS, ["live-healthy", "compose-symlink", "route-live", "record-live", "prune", "route-passive"])]),
        });
    });

    it("a canary change rewrites only the live routing (and the live notice)", () => {
        assert.deepEqual(diff(evaluations.prepared, evaluations.canary), {
            added: [],
            removed: [],
            changed: sorted(["portal-notify-live", ...perServer(SERVERS, ["route-live"])]),
        });
    });
});
