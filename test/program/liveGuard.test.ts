// The live guard (lib/model/liveGuard.ts, run by program.ts before any resource): the last deployed
// state comes from the stack's own `deployed` output through a StackReference, served here by
// the mocks (offline/evaluate.ts). The engine alone would allow each refused case below:
// pulumi@v3.248.0 pkg/resource/deploy/step_generator.go refuses a replace only when the
// resource is protected before *and* after the update.

import assert from "node:assert/strict";
import { evaluate, type StackConfig } from "../../offline/evaluate";
import type { DeployedState } from "../../lib/model/liveGuard";
import { PY3_TRACK, appSecrets, loadStack, productionWithSite, steadyBlue, withRelease, withTrackRelease, withTracks } from "../support/stacks";

const NEW_TAG = "2020.08.09-1";

async function deployed(config: StackConfig, secrets: Record<string, unknown> = {}): Promise<DeployedState> {
    return (await evaluate(config, secrets)).outputs.deployedState;
}

async function refused(last: StackConfig, next: StackConfig, secrets: { last?: Record<string, unknown>; next?: Record<string, unknown> } = {}): Promise<string> {
    const lastDeployed = await deployed(last, secrets.last);
    try {
        await evaluate(next, secrets.next ?? secrets.last ?? {}, { lastDeployed });
    } catch (e) {
        return String((e as Error).message);
    }
    assert.fail("the change was allowed");
}

async function allowed(last: StackConfig | undefined, next: StackConfig): Promise<void> {
    await evaluate(next, {}, { lastDeployed: last && (await deployed(last)) });
}

const prepared = () => withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" });

describe("the live guard (mock runtime, production stack)", function () {
    this.timeout(60000);

    it("fingerprints are stable across program versions: the production stack's, as earlier versions computed them", async () => {
        // A changed fingerprint of an unchanged container would make the guard refuse every
        // update of a stack deployed by an earlier version. These values were computed by the
        // version before per-color env (commit f9bd945), whose colors both read app.env and appSecrets.
        const state = await deployed(loadStack("production"), appSecrets({ DATABASE_PASSWORD: "x" }));
        assert.deepEqual(Object.fromEntries(Object.entries(state.main.colors).map(([c, v]) => [c, v.fingerprint])), {
            blue: "e9817ca2f6f4b681fd5e90424b7c4c0f275322fe0bc6ce733c746b2614272695",
            green: "fbce67dca8e43a0554cba85f690030c70497ee9a053f4f4892d9b543542c3c9b",
        });
    });

    it("a new stack (no deployed output yet) may declare anything", async () => {
        await allowed(undefined, withRelease(steadyBlue(), { live: "green", tags: { blue: NEW_TAG } }));
    });

    it("the deployed output is the state the config deploys, per track", async () => {
        const state = await deployed(prepared());
        assert.deepEqual(Object.keys(state), ["main"]);
        assert.equal(state.main.live, "blue");
        assert.equal(state.main.colors.green.image, "registry.example.com/portal:2020.08.07-1");
        assert.match(state.main.colors.blue.fingerprint, /^[0-9a-f]{64}$/);
    });

    it("refuses `live: green` plus a new blue tag in one edit: blue would be unprotected and replaced in the same update", async () => {
        const message = await refused(steadyBlue(), withRelease(steadyBlue(), { live: "green", passive: "green", tags: { blue: NEW_TAG } }));
        assert.match(message, /refused by the live guard/);
        assert.match(message, /color blue served live traffic in the last deployed state \(live, registry\.example\.com\/portal:2020\.08\.06-1\)/);
        assert.match(message, /would replace its container \(its image registry\.example\.com\/portal:2020\.08\.06-1 -> registry\.example\.com\/portal:2020\.08\.09-1\)/);
        assert.match(message, /Legal next step: one change per pulumi up: first move traffic \(deploy, rollback or abort\) with blue unchanged/);
    });

    it("refuses ending a canary and re-tagging the canaried color in one edit", async () => {
        const canary = withRelease(prepared(), { canary: 5 });
        const message = await refused(canary, withRelease(canary, { canary: 0, passive: "blue", tags: { green: NEW_TAG } }));
        assert.match(message, /color green served live traffic in the last deployed state \(canary 5%/);
    });

    it("refuses a prepare while the last update (a deploy) did not complete: the last state still has blue live", async () => {
        // The deployed output waits for every live switch (program.ts), so a half-done deploy to
        // green leaves blue live in it; the stack file already says live: green.
        const halfDeployed = withRelease(prepared(), { live: "green", passive: "green" });
        const message = await refused(prepared(), withRelease(halfDeployed, { tags: { blue: NEW_TAG }, passive: "blue" }));
        assert.match(message, /color blue served live traffic/);
    });

    it("allows the legal steps: prepare, canary, deploy, then prepare the old color", async () => {
        await allowed(steadyBlue(), prepared());
        await allowed(prepared(), withRelease(prepared(), { canary: 5 }));
        const green = withRelease(prepared(), { live: "green", passive: "green" });
        await allowed(withRelease(prepared(), { canary: 5 }), green);
        await allowed(green, withRelease(green, { tags: { blue: NEW_TAG }, passive: "blue" }));
    });

    it("refuses a secret change that reaches a color leaving service in the same update", async () => {
        const message = await refused(steadyBlue(), withRelease(prepared(), { live: "green", passive: "green" }), {
            last: appSecrets({ DATABASE_PASSWORD: "one" }),
            next: appSecrets({ DATABASE_PASSWORD: "two" }),
        });
        assert.match(message, /color blue .*would replace its container \(its env, secrets, ports or labels\)/);
    });

    it("refuses portal:image changed for a live color whose repository is not pinned, and says to pin it", async () => {
        const unpinned = steadyBlue();
        delete (unpinned["portal:release"] as Record<string, unknown>).images;
        const message = await refused(unpinned, { ...unpinned, "portal:image": "registry.example.com/portal-py3" });
        assert.match(message, /color blue served live traffic .*registry\.example\.com\/portal:2020\.08\.06-1 -> registry\.example\.com\/portal-py3:2020\.08\.06-1.*pin blue's repository in release\.images\.blue/);
    });

    it("refuses removing a track that still serves; allows it once retired", async () => {
        const twoTracks = withTracks(productionWithSite(), [PY3_TRACK], null);
        const message = await refused(twoTracks, productionWithSite());
        assert.match(message, /color red of track py3 served live traffic .*removing the track would delete its containers\. Legal next step: retire it first/);
        const retired = withTracks(productionWithSite(), [{ ...PY3_TRACK, retired: true }], null);
        await allowed(twoTracks, retired);
        await allowed(retired, productionWithSite());
    });

    it("a track's release is guarded like the main one", async () => {
        const twoTracks = withTracks(productionWithSite(), [PY3_TRACK], null);
        const message = await refused(twoTracks, withTrackRelease(twoTracks, "py3", { tags: { red: "py3-2020.08.02-1" } }));
        assert.match(message, /color red of track py3 .*prepare the change on the passive color instead \(npm run release -- prepare <tag> --track py3\)/);
    });
});
