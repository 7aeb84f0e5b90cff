// The release state machine without files: legal verbs per stage, each verb's result,
// and the refusals (with their reasons).

import assert from "node:assert/strict";
import type { ReleaseConfig } from "../../lib/config/config";
import {
    argumentProblem,
    describeLegalVerbs,
    describeRollback,
    describeSplit,
    legalVerbs,
    parsePercent,
    releaseChanges,
    splitChanges,
    splitTransition,
    transition,
    type Transition,
} from "../../lib/release/releaseTransitions";
import type { EdgeConfig } from "../../lib/config/config";

/** Steady on blue with no record of a deploy (e.g. a stack file written by hand). */
const steady: ReleaseConfig = { tags: { blue: "1.0", green: "0.9" }, live: "blue", passive: "blue", canary: 0 };
/** Steady on blue after the helper deployed blue 1.0 over green 0.9: a plain rollback is safe. */
const deployed: ReleaseConfig = { ...steady, previous: { color: "green", tag: "0.9", by: "deploy" } };
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
        assert.deepEqual(legalVerbs(steady), ["prepare", "reconfigure", "rollback"]);
        assert.deepEqual(legalVerbs(steadyAlone), ["prepare", "reconfigure"]);
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

    it("deploy makes the passive color live, resets the canary and records what was live as previous", () => {
        const t = transition(canary5, "deploy");
        assert.deepEqual(released(t), { ...prepared, live: "green", passive: "green", canary: 0, previous: { color: "blue", tag: "1.0", by: "deploy" } });
        assert.ok(t.ok);
        assert.deepEqual(t.notes, ["green 1.1 goes live; blue 1.0 keeps running unrouted for a rollback"]);
    });

    it("abort points passive back at live, keeps the prepared tag and previous, resets the canary", () => {
        const t = transition({ ...canary5, previous: deployed.previous }, "abort");
        assert.deepEqual(released(t), { ...prepared, live: "blue", passive: "blue", canary: 0, previous: deployed.previous });
        assert.ok(t.ok);
        assert.deepEqual(t.notes, ["blue 1.0 stays live; green 1.1 keeps running unrouted (a later plain rollback is refused: it never went live)"]);
    });

    it("rollback after a deploy puts the release live before it back, naming its tag, and records the rollback", () => {
        const t = transition(deployed, "rollback");
        assert.deepEqual(released(t), { ...steady, live: "green", passive: "green", previous: { color: "blue", tag: "1.0", by: "rollback" } });
        assert.ok(t.ok);
        assert.deepEqual(t.notes, ["green 0.9 goes live (it was live before the last deploy), with no prepare stage; blue 1.0 keeps running unrouted"]);
    });

    describe("rollback refusals and rollback by name", () => {
        const afterRollback = released(transition(deployed, "rollback"));
        const afterAbort = released(transition(released(transition(deployed, "prepare", "1.1")), "abort"));
        const byName = (color: string, tag: string) => `to put ${color} ${tag} live anyway, name the color: rollback ${color}`;
        const cases: [string, ReleaseConfig, string, string][] = [
            [
                "a second rollback",
                afterRollback,
                `the last change of live was a rollback (from blue 1.0); another rollback would put blue 1.0, the release rolled back from, live again; ${byName("blue", "1.0")}`,
                "stage steady: live green (0.9), passive green (0.9), canary 0%\nlegal now: prepare <tag>, reconfigure, rollback blue",
            ],
            [
                "a rollback after an abort (the other color holds the aborted release)",
                afterAbort,
                `green held 0.9 before the last deploy but now holds 1.1, prepared since and never deployed (aborted); ${byName("green", "1.1")}`,
                "stage steady: live blue (1.0), passive blue (1.0), canary 0%\nlegal now: prepare <tag>, reconfigure, rollback green",
            ],
            [
                "a rollback with no record of the last deploy",
                steady,
                `the release block has no previous record, so nothing says which release was live before the last deploy; ${byName("green", "0.9")}`,
                "stage steady: live blue (1.0), passive blue (1.0), canary 0%\nlegal now: prepare <tag>, reconfigure, rollback green",
            ],
            [
                "a rollback when live was set back by hand since the deploy",
                { ...deployed, previous: { color: "blue", tag: "0.8", by: "deploy" } },
                `blue is live again since the last deploy (made from blue 0.8); ${byName("green", "0.9")}`,
                "stage steady: live blue (1.0), passive blue (1.0), canary 0%\nlegal now: prepare <tag>, reconfigure, rollback green",
            ],
        ];
        for (const [name, release, why, rest] of cases) {
            it(`refuses ${name} without a color, with the exact reason`, () => {
                assert.equal(reason(transition(release, "rollback")), `cannot rollback: ${why}\n${rest}`);
            });
        }

        it("with the color named, rolls back anyway and says it was not checked", () => {
            const t = transition(afterAbort, "rollback", "green");
            assert.deepEqual(released(t), { ...afterAbort, live: "green", passive: "green", previous: { color: "blue", tag: "1.0", by: "rollback" } });
            assert.ok(t.ok);
            assert.deepEqual(t.notes, ["green 1.1 goes live (named by the operator; nothing checked it was live before), with no prepare stage; blue 1.0 keeps running unrouted"]);
            assert.deepEqual(released(transition(afterRollback, "rollback", "blue")).live, "blue");
            assert.deepEqual(released(transition(deployed, "rollback", "green")), released(transition(deployed, "rollback")));
        });

        it("refuses a named color that is live, foreign, or has no tag", () => {
            assert.equal(
                reason(transition(deployed, "rollback", "blue")),
                "cannot rollback blue: blue is already live; rollback green puts green 0.9 live\nstage steady: live blue (1.0), passive blue (1.0), canary 0%\nlegal now: prepare <tag>, reconfigure, rollback",
            );
            assert.equal(
                reason(transition(deployed, "rollback", "red")),
                'cannot rollback red: "red" is not a color of this track; allowed: blue, green\nstage steady: live blue (1.0), passive blue (1.0), canary 0%\nlegal now: prepare <tag>, reconfigure, rollback',
            );
            assert.match(reason(transition(steadyAlone, "rollback", "green")), /^cannot rollback green: the other color green has no tag to roll back to\n/);
            assert.match(reason(transition(prepared, "rollback", "green")), /^cannot rollback green: rollback needs a steady release and this one is prepared\n/);
        });

        it("status describes what a plain rollback would do", () => {
            assert.equal(describeRollback(deployed), "green 0.9 goes live (it was live before the last deploy)");
            assert.equal(
                describeRollback(afterRollback),
                "only by name (rollback blue): the last change of live was a rollback (from blue 1.0); another rollback would put blue 1.0, the release rolled back from, live again",
            );
            assert.equal(describeRollback(prepared), "none while prepared (abort first)");
            assert.equal(describeRollback(steadyAlone), "none (green has no tag)");
            assert.equal(describeLegalVerbs(deployed), "prepare <tag>, reconfigure, rollback");
            assert.equal(describeLegalVerbs(afterAbort), "prepare <tag>, reconfigure, rollback green");
        });
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
            { path: ["previous"], before: undefined, after: { color: "blue", tag: "1.0", by: "deploy" } },
        ]);
        assert.deepEqual(releaseChanges(deployed, released(transition(deployed, "rollback"))), [
            { path: ["live"], before: "blue", after: "green" },
            { path: ["passive"], before: "blue", after: "green" },
            { path: ["previous", "color"], before: "green", after: "blue" },
            { path: ["previous", "tag"], before: "0.9", after: "1.0" },
            { path: ["previous", "by"], before: "deploy", after: "rollback" },
        ]);
        assert.deepEqual(releaseChanges(prepared, prepared), []);
    });

    it("prepare accepts a tag pinned to a digest and refuses a malformed digest", () => {
        const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
        assert.equal(released(transition(steady, "prepare", `1.1@${digest}`)).tags.green, `1.1@${digest}`);
        for (const tag of [`1.1@${digest.slice(0, -1)}`, `1.1@${digest.toUpperCase()}`, `1.1@md5:${"0".repeat(32)}`, `@${digest}`]) {
            assert.equal(
                reason(transition(steady, "prepare", tag)).split("\n")[0],
                `cannot prepare ${tag}: ${JSON.stringify(tag)} is not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, optionally @sha256:<64 hex>)`,
            );
        }
    });

    it("prepare of a mutable tag stamps that color's pull (pulled.<color>), only for listed or versionless tags", () => {
        const now = new Date("2020-12-01T14:30:05.123Z");
        const t = transition(steady, "prepare", "latest", undefined, { mutableTags: ["latest"], now });
        assert.deepEqual(released(t), { ...prepared, tags: { blue: "1.0", green: "latest" }, pulled: { green: "20201201-143005" } });
        assert.ok(t.ok);
        assert.deepEqual(t.notes, ["latest is a mutable tag: green pulls it again (pulled.green 20201201-143005)"]);
        const again = released(transition({ ...steady, tags: { blue: "latest", green: "0.9" }, pulled: { blue: "20201130-090000" } }, "prepare", "latest", undefined, { mutableTags: ["latest"], now }));
        assert.deepEqual(again.pulled, { blue: "20201130-090000", green: "20201201-143005" });
        assert.deepEqual(releaseChanges({ ...steady, pulled: { blue: "20201130-090000" } }, again).filter((c) => c.path[0] === "pulled"), [
            { path: ["pulled", "green"], before: undefined, after: "20201201-143005" },
        ]);
        assert.equal(released(transition(steady, "prepare", "1.1", undefined, { mutableTags: ["latest"], now })).pulled, undefined);
        assert.equal(released(transition(steady, "prepare", `latest@sha256:${"a".repeat(64)}`, undefined, { now })).pulled, undefined);
    });

    it("counts each verb's arguments: rollback takes an optional color, split two words", () => {
        assert.equal(argumentProblem("rollback", []), undefined);
        assert.equal(argumentProblem("rollback", ["green"]), undefined);
        assert.equal(argumentProblem("rollback", ["green", "now"]), "rollback takes at most 1 argument: rollback [<color>]");
        assert.equal(argumentProblem("split", ["py3"]), "split takes exactly 2 arguments: split <track> <percent>");
        assert.equal(argumentProblem("prepare", []), "prepare takes exactly one argument: prepare <tag>");
        assert.equal(argumentProblem("deploy", ["x"]), "deploy takes no argument (got x)");
    });
});

describe("edge split transitions", () => {
    const edge: EdgeConfig = { hosts: [{ name: "lb1", host: "10.0.1.5" }], listen: { address: "0.0.0.0", port: 80 }, split: { track: "py3", percent: 0.5 }, trackPorts: {}, dir: "/srv/portal-edge" };
    const tracks = [{ name: "py3", retired: false }, { name: "py4", retired: false }, { name: "py2", retired: true }];
    const ok = (t: ReturnType<typeof splitTransition>) => {
        assert.ok(t.ok, t.ok ? "" : t.reason);
        return t;
    };
    const refusal = (t: ReturnType<typeof splitTransition>) => {
        assert.ok(!t.ok);
        return t.reason;
    };

    it("sets the share of a track, 0 to 100, and describes both sides", () => {
        assert.deepEqual(ok(splitTransition(edge, tracks, "py3", "5")), { ok: true, split: { track: "py3", percent: 5 }, notes: ["5% of the edge's traffic to py3, 95% to main"] });
        assert.deepEqual(ok(splitTransition(edge, tracks, "py3", "100")).split, { track: "py3", percent: 100 });
        assert.deepEqual(ok(splitTransition(edge, tracks, "py3", "0")).notes, ["all edge traffic to main (0% to py3)"]);
        assert.equal(describeSplit({ track: "py3", percent: 0.33 }), "0.33% of the edge's traffic to py3, 99.67% to main");
        assert.equal(describeSplit(undefined), "all edge traffic to main");
    });

    it("moving the split to another track says the first one loses its share", () => {
        assert.deepEqual(ok(splitTransition(edge, tracks, "py4", "1")).notes, ["track py3 no longer gets edge traffic (it had 0.5%)", "1% of the edge's traffic to py4, 99% to main"]);
    });

    it("refuses with the exact reason: no edge, main, unknown or retired track, a bad percentage", () => {
        const cases: [EdgeConfig | undefined, string, string, string][] = [
            [undefined, "py3", "5", "cannot split py3 5: the stack has no portal:edge, so there is no split to set"],
            [edge, "main", "5", "cannot split main 5: the split names the track that gets the share; main gets the rest. To send everything to main: split py3 0"],
            [edge, "py9", "5", 'cannot split py9 5: "py9" is not a track of this stack; allowed: py3, py4'],
            [edge, "py2", "5", "cannot split py2 5: track py2 is retired; allowed: py3, py4"],
            [edge, "py3", "100.01", 'cannot split py3 100.01: "100.01" is not a percentage from 0 to 100 with at most two decimals'],
            [edge, "py3", "0.123", 'cannot split py3 0.123: "0.123" is not a percentage from 0 to 100 with at most two decimals'],
            [edge, "py3", "-1", 'cannot split py3 -1: "-1" is not a percentage from 0 to 100 with at most two decimals'],
        ];
        for (const [e, track, percent, expected] of cases) assert.equal(refusal(splitTransition(e, tracks, track, percent)), expected);
    });

    it("changes only the split's changed fields, or adds the whole split", () => {
        assert.deepEqual(splitChanges({ track: "py3", percent: 0.5 }, { track: "py3", percent: 5 }), [{ path: ["split", "percent"], before: 0.5, after: 5 }]);
        assert.deepEqual(splitChanges(undefined, { track: "py3", percent: 5 }), [{ path: ["split"], before: undefined, after: { track: "py3", percent: 5 } }]);
        assert.deepEqual(splitChanges({ track: "py3", percent: 5 }, { track: "py3", percent: 5 }), []);
    });
});
