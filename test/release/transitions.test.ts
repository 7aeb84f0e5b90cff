// The release state machine without files: legal verbs per stage, each verb's result,
// and the refusals (with their reasons).

import assert from "node:assert/strict";
import type { ReleaseConfig } from "../../lib/config";
import { legalVerbs, parsePercent, releaseChanges, transition, type Transition } from "../../lib/releaseTransitions";

const steady: ReleaseConfig = { tags: { blue: "1.0", green: "0.9" }, live: "blue", passive: "blue", canary: 0 };
const steadyAlone: ReleaseConfig = { tags: { blue: "1.0" }, live: "blue", passive: "blue", canary: 0 };
const prepared: ReleaseConfig = { tags: { blue: "1.0", green: "1.1" }, live: "blue", passive: "green", canary: 0 };
const canary5: ReleaseConfig = { ...prepared, canary: 5 };

function released(t: Transition): ReleaseConfig {
    assert.ok(t.ok, t.ok ? "" : t.reason);
    return t.release;
}

function reason(t: Transition): string {
    assert.ok(!t.ok, "expected a refusal");
    return t.reason;
}

describe("release transitions", () => {
    it("lists the legal verbs of each stage", () => {
        assert.deepEqual(legalVerbs(steady), ["prepare", "rollback"]);
        assert.deepEqual(legalVerbs(steadyAlone), ["prepare"]);
        assert.deepEqual(legalVerbs(prepared), ["canary", "deploy", "abort"]);
        assert.deepEqual(legalVerbs(canary5), ["canary", "deploy", "abort"]);
    });

    it("prepare puts the tag on the non-live color, makes it passive, canary 0", () => {
        assert.deepEqual(released(transition(steady, "prepare", "1.1")), prepared);
        const onGreen: ReleaseConfig = { tags: { blue: "0.9", green: "1.0" }, live: "green", passive: "green", canary: 0 };
        assert.deepEqual(released(transition(onGreen, "prepare", "1.1")), {
            tags: { blue: "1.1", green: "1.0" },
            live: "green",
            passive: "blue",
            canary: 0,
        });
        assert.deepEqual(released(transition(steadyAlone, "prepare", "1.1")), prepared);
    });

    it("prepare with the live tag is allowed (a config-only change) and says so", () => {
        const t = transition(steady, "prepare", "1.0");
        assert.deepEqual(released(t), { ...steady, tags: { blue: "1.0", green: "1.0" }, passive: "green" });
        assert.ok(t.ok);
        assert.match(t.notes.join("\n"), /1\.0 is also the live tag/);
    });

    it("prepare refuses a tag outside Docker's grammar", () => {
        for (const tag of ["bad tag!", "", "-x", ".x", "a/b", "a:b", "x".repeat(129)]) {
            assert.match(reason(transition(steady, "prepare", tag)), /is not a Docker tag/, tag);
        }
        assert.equal(released(transition(steady, "prepare", "x".repeat(128))).tags.green, "x".repeat(128));
    });

    it("canary sets the share while prepared", () => {
        assert.deepEqual(released(transition(prepared, "canary", "0.5")), { ...prepared, canary: 0.5 });
        assert.deepEqual(released(transition(canary5, "canary", "99.99")), { ...prepared, canary: 99.99 });
        assert.deepEqual(released(transition(canary5, "canary", "0")), prepared);
    });

    it("canary accepts 0 to 99.99 with two decimals at most", () => {
        for (const [text, value] of [["0", 0], ["0.01", 0.01], ["5", 5], ["12.5", 12.5], ["99.99", 99.99]] as const) {
            assert.equal(parsePercent(text), value, text);
        }
        for (const text of ["100", "100.0", "101", "0.123", "-1", "abc", "", " 5", "5.", "1e1", "5%"]) {
            assert.equal(typeof parsePercent(text), "string", text);
        }
        assert.match(reason(transition(prepared, "canary", "100")), /100% is a deploy/);
        assert.match(reason(transition(prepared, "canary", "101")), /over 99\.99/);
        assert.match(reason(transition(prepared, "canary", "0.123")), /"0\.123" is not a percentage/);
    });

    it("deploy makes the passive color live and resets the canary", () => {
        assert.deepEqual(released(transition(canary5, "deploy")), { ...prepared, live: "green", passive: "green", canary: 0 });
    });

    it("abort points passive back at live, keeps the prepared tag, resets the canary", () => {
        assert.deepEqual(released(transition(canary5, "abort")), { ...prepared, live: "blue", passive: "blue", canary: 0 });
    });

    it("rollback makes the other color live and passive, naming what goes live", () => {
        const t = transition(steady, "rollback");
        assert.deepEqual(released(t), { ...steady, live: "green", passive: "green" });
        assert.ok(t.ok);
        assert.match(t.notes.join("\n"), /green \(0\.9\) goes live directly/);
    });

    it("refuses each verb outside its stage, naming the verb, the stage and the legal verbs", () => {
        const cases: [ReleaseConfig, Parameters<typeof transition>[1], string | undefined, RegExp][] = [
            [prepared, "prepare", "1.2", /^cannot prepare 1\.2: prepare needs a steady release and this one is prepared\n/],
            [steady, "canary", "5", /^cannot canary 5: canary needs a prepared release and this one is steady\n/],
            [steady, "deploy", undefined, /^cannot deploy: deploy needs a prepared release and this one is steady\n/],
            [steady, "abort", undefined, /^cannot abort: abort needs a prepared release and this one is steady\n/],
            [prepared, "rollback", undefined, /^cannot rollback: rollback needs a steady release and this one is prepared\n/],
            [steadyAlone, "rollback", undefined, /^cannot rollback: the other color green has no tag to roll back to\n/],
        ];
        for (const [release, verb, argument, expected] of cases) {
            const why = reason(transition(release, verb, argument));
            assert.match(why, expected);
            const stage = release.passive === release.live ? "steady" : "prepared";
            assert.match(why, new RegExp(`\\nstage ${stage}: live blue \\(1\\.0\\)`));
            assert.match(why, new RegExp(`\\nlegal now: ${stage === "steady" ? "prepare <tag>" : "canary <percent>, deploy, abort"}`));
        }
    });

    it("lists only the changed keys, tags first", () => {
        assert.deepEqual(releaseChanges(steady, released(transition(steady, "prepare", "1.1"))), [
            { path: ["tags", "green"], before: "0.9", after: "1.1" },
            { path: ["passive"], before: "blue", after: "green" },
        ]);
        assert.deepEqual(releaseChanges(canary5, released(transition(canary5, "deploy"))), [
            { path: ["live"], before: "blue", after: "green" },
            { path: ["canary"], before: 5, after: 0 },
        ]);
        assert.deepEqual(releaseChanges(prepared, prepared), []);
    });
});
