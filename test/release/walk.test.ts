// Whole rollouts driven only by the helper: after each step the file passes
// validateConfig and the real program, evaluated offline (planStack), is in the intended
// stage with the intended routes. planStack runs one at a time (global mock runtime).

import assert from "node:assert/strict";
import { validateConfig } from "../../lib/config/config";
import { portalRawConfig } from "../../lib/release/stackFileEdit";
import { planStack, readStackFile, type Plan } from "../../offline/plan";
import { LIVE_TAG, NEW_TAG, PINNED_ENV, STEADY, stackDir, type StackDir } from "./fixtures";

const SERVERS = ["web1", "web2", "web3"];

interface Expected {
    stage: "steady" | "prepared";
    live: string;
    passive: string;
    canary: number;
    tags: Record<string, string>;
    /** What the helper recorded as live before the last deploy or rollback. */
    previous?: { color: string; tag: string; by: "deploy" | "rollback" };
    /** Every server's live upstream, as the offline plan describes it. */
    liveUpstream: string;
    passiveUpstream: string;
}

/** Runs one step, then checks the file with validateConfig and the offline plan. */
async function step(s: StackDir, argv: string[], expected: Expected): Promise<Plan> {
    const r = s.release(argv);
    assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
    const { release } = validateConfig(portalRawConfig(s.read()));
    const { previous, ...rest } = release;
    const images = { blue: "registry.example.com/portal", green: "registry.example.com/portal" };
    assert.deepEqual(rest, { tags: expected.tags, images, env: PINNED_ENV, live: expected.live, passive: expected.passive, canary: expected.canary });
    assert.deepEqual(previous, expected.previous, `${argv.join(" ")}: previous`);
    const plan = await planStack(readStackFile(s.file));
    assert.equal(plan.stage, expected.stage, argv.join(" "));
    assert.deepEqual(plan.release, rest);
    assert.deepEqual(plan.servers.map((server) => server.name), SERVERS);
    for (const server of plan.servers) {
        assert.equal(server.upstreams.live, expected.liveUpstream, `${argv.join(" ")}: ${server.name} live`);
        assert.equal(server.upstreams.passive, expected.passiveUpstream, `${argv.join(" ")}: ${server.name} passive`);
    }
    return plan;
}

describe("release walks (validateConfig + offline plan after each step)", function () {
    this.timeout(60000);
    let s: StackDir;
    beforeEach(() => (s = stackDir(STEADY)));
    afterEach(() => s.remove());

    it("steady -> prepare -> canary 0.5 -> canary 5 -> deploy -> rollback", async () => {
        const tags = { blue: LIVE_TAG, green: NEW_TAG };
        const onBlue = { stage: "steady", live: "blue", passive: "blue", canary: 0, tags, liveUpstream: "portal_blue", passiveUpstream: "portal_blue" } as const;
        const prepared = { ...onBlue, stage: "prepared", passive: "green", passiveUpstream: "portal_green" } as const;

        const steadyPlan = await planStack(readStackFile(s.file));
        assert.equal(steadyPlan.stage, "steady");

        await step(s, ["prepare", NEW_TAG], prepared);
        await step(s, ["canary", "0.5"], { ...prepared, canary: 0.5, liveUpstream: "portal_blue, 0.5% to portal_green (sticky per client)" });
        const canaryPlan = await step(s, ["canary", "5"], { ...prepared, canary: 5, liveUpstream: "portal_blue, 5% to portal_green (sticky per client)" });
        assert.ok(canaryPlan.servers.every((server) => server.containers.find((c) => c.name === "portal-green")?.protected === true));
        const deployed = await step(s, ["deploy"], {
            ...onBlue,
            live: "green",
            passive: "green",
            liveUpstream: "portal_green",
            passiveUpstream: "portal_green",
            previous: { color: "blue", tag: LIVE_TAG, by: "deploy" },
        });
        assert.deepEqual(deployed.servers[0].live, { color: "green", tag: NEW_TAG });
        const rolledBack = await step(s, ["rollback"], { ...onBlue, previous: { color: "green", tag: NEW_TAG, by: "rollback" } });
        assert.deepEqual(rolledBack.servers[0].live, { color: "blue", tag: LIVE_TAG });
        // A second plain rollback would put the bad release back: refused, the file unchanged.
        const text = s.read();
        const again = s.release(["rollback"]);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /^cannot rollback: the last change of live was a rollback \(from green 2020\.08\.08-1\)/);
        assert.equal(s.read(), text);
    });

    it("steady -> prepare -> abort: back to steady blue, the prepared tag kept unrouted", async () => {
        const tags = { blue: LIVE_TAG, green: NEW_TAG };
        await step(s, ["prepare", NEW_TAG], { stage: "prepared", live: "blue", passive: "green", canary: 0, tags, liveUpstream: "portal_blue", passiveUpstream: "portal_green" });
        const aborted = await step(s, ["abort"], { stage: "steady", live: "blue", passive: "blue", canary: 0, tags, liveUpstream: "portal_blue", passiveUpstream: "portal_blue" });
        const green = aborted.servers[0].containers.find((c) => c.name === "portal-green");
        assert.deepEqual(green && { tag: green.tag, protected: green.protected }, { tag: NEW_TAG, protected: false });
    });
});
