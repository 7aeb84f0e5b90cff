// The release helper as operators run it (in-process): each verb's edit of a copy of the
// production stack file, line for line; every refusal leaves the file byte-identical.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runRelease } from "../../bin/release";
import { GREEN_TAG, LIVE_TAG, NEW_TAG, PINNED_ENV, PRODUCTION, STEADY, releaseBlock, withLines, stackDirsForSuite } from "./fixtures";

const PREPARED_CANARY_5 = withLines(PRODUCTION, { "    canary: 0": "    canary: 5" });
/** Steady on blue with no green tag at all: nothing to roll back to. */
const STEADY_BLUE_ONLY = STEADY.replace(`      green: "${GREEN_TAG}"\n`, "");
/** The line deploy adds to the production file (blue was live before it). */
const DEPLOYED_FROM_BLUE = `    previous: { color: blue, tag: "${LIVE_TAG}", by: deploy }`;
/** Steady on blue, deployed by the helper over green: a plain rollback puts green back. */
const DEPLOYED = withLines(STEADY, { "    canary: 0": `    canary: 0\n    previous: { color: green, tag: "${GREEN_TAG}", by: deploy }` });

describe("release helper (bin/release.ts)", () => {
    const stackWith = stackDirsForSuite();

    it("fixtures: the blue-only variant really lacks a green tag", () => {
        assert.deepEqual(releaseBlock(STEADY_BLUE_ONLY), { tags: { blue: LIVE_TAG }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "blue", canary: 0 });
    });

    describe("each verb's edit", () => {
        it("prepare: puts the tag on green, makes it passive; nothing else in the file changes", () => {
            const s = stackWith(STEADY);
            const r = s.release(["prepare", NEW_TAG]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), withLines(STEADY, { [`      green: "${GREEN_TAG}"`]: `      green: "${NEW_TAG}"`, "    passive: blue": "    passive: green" }));
            assert.deepEqual(releaseBlock(s.read()), { tags: { blue: LIVE_TAG, green: NEW_TAG }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "green", canary: 0 });
            assert.match(r.stdout, /portal:release\.tags\.green {2}"2020\.08\.07-1" → "2020\.08\.08-1"/);
            assert.match(r.stdout, /portal:release\.passive {5}blue → green/);
            assert.match(r.stdout, /\n {2}pulumi preview -s production\n {2}pulumi up -s production\n/);
            assert.equal(r.stderr, "");
        });

        it("prepare with the live tag: allowed for a config-only change, with a note", () => {
            const s = stackWith(STEADY);
            const r = s.release(["prepare", LIVE_TAG]);
            assert.equal(r.code, 0, r.stderr);
            assert.deepEqual(releaseBlock(s.read()), { tags: { blue: LIVE_TAG, green: LIVE_TAG }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "green", canary: 0 });
            assert.match(r.stdout, /note: 2020\.08\.06-1 is also the live tag/);
        });

        it("canary: sets the share, only that line changes", () => {
            const s = stackWith(PRODUCTION);
            const r = s.release(["canary", "0.5"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), withLines(PRODUCTION, { "    canary: 0": "    canary: 0.5" }));
            assert.match(r.stdout, /portal:release\.canary {2}0 → 0\.5\n/);
        });

        it("canary with the current share: nothing to change, file untouched", () => {
            const s = stackWith(PREPARED_CANARY_5);
            const r = s.release(["canary", "5"]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /nothing to change/);
            assert.equal(s.read(), PREPARED_CANARY_5);
        });

        it("deploy: live := passive, canary 0", () => {
            const s = stackWith(PREPARED_CANARY_5);
            const r = s.release(["deploy"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), withLines(PRODUCTION, { "    live: blue": "    live: green", "    canary: 0": `    canary: 0\n${DEPLOYED_FROM_BLUE}` }));
            assert.deepEqual(releaseBlock(s.read()), {
                tags: { blue: LIVE_TAG, green: GREEN_TAG },
                images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" },
                env: PINNED_ENV,
                live: "green",
                passive: "green",
                canary: 0,
                previous: { color: "blue", tag: LIVE_TAG, by: "deploy" },
            });
            assert.match(r.stdout, /\n {2}portal:release\.previous {2}\(unset\) → \{ color: blue, tag: "2020\.08\.06-1", by: deploy \}\n/);
            assert.match(r.stdout, /\nnote: green 2020\.08\.07-1 goes live; blue 2020\.08\.06-1 keeps running unrouted for a rollback\n/);
        });

        it("deploy over an earlier record: replaces its fields in place", () => {
            const s = stackWith(withLines(PRODUCTION, { "    canary: 0": `    canary: 0\n    previous: { color: green, tag: "2020.08.05-1", by: rollback } # kept` }));
            assert.equal(s.release(["deploy"]).code, 0);
            assert.match(s.read(), /\n {4}previous: \{ color: blue, tag: "2020\.08\.06-1", by: deploy \} # kept\n/);
        });

        it("abort: passive := live, canary 0, the prepared tag stays", () => {
            const s = stackWith(PREPARED_CANARY_5);
            const r = s.release(["abort"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), STEADY);
            assert.match(r.stdout, /portal:release\.passive {2}green → blue\n {2}portal:release\.canary {3}5 → 0\n/);
        });

        it("rollback after a deploy: the release live before it goes live again, naming its tag", () => {
            const s = stackWith(DEPLOYED);
            const r = s.release(["rollback"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(
                s.read(),
                withLines(STEADY, { "    live: blue": "    live: green", "    passive: blue": "    passive: green", "    canary: 0": `    canary: 0\n    previous: { color: blue, tag: "${LIVE_TAG}", by: rollback }` }),
            );
            assert.equal(
                r.stdout,
                [
                    "rollback on stack production (Pulumi.production.yaml)",
                    "  portal:release.live            blue → green",
                    "  portal:release.passive         blue → green",
                    '  portal:release.previous.color  green → blue',
                    '  portal:release.previous.tag    "2020.08.07-1" → "2020.08.06-1"',
                    "  portal:release.previous.by     deploy → rollback",
                    "note: green 2020.08.07-1 goes live (it was live before the last deploy), with no prepare stage; blue 2020.08.06-1 keeps running unrouted",
                    "stage steady: live green (2020.08.07-1), passive green (2020.08.07-1), canary 0%",
                    "wrote Pulumi.production.yaml. Next:",
                    "  pulumi preview -s production",
                    "  pulumi up -s production",
                    "then legal: prepare <tag>, reconfigure, rollback blue",
                    "",
                ].join("\n"),
            );
        });

        it("a second rollback is refused; naming the color does it, and says nothing checked it", () => {
            const s = stackWith(DEPLOYED);
            assert.equal(s.release(["rollback"]).code, 0);
            const once = s.read();
            const again = s.release(["rollback"]);
            assert.equal(again.code, 1);
            assert.equal(
                again.stderr,
                [
                    "cannot rollback: the last change of live was a rollback (from blue 2020.08.06-1); another rollback would put blue 2020.08.06-1, the release rolled back from, live again; to put blue 2020.08.06-1 live anyway, name the color: rollback blue",
                    "stage steady: live green (2020.08.07-1), passive green (2020.08.07-1), canary 0%",
                    "legal now: prepare <tag>, reconfigure, rollback blue",
                    "",
                ].join("\n"),
            );
            assert.equal(s.read(), once);
            const named = s.release(["rollback", "blue"]);
            assert.equal(named.code, 0, named.stderr);
            assert.deepEqual(releaseBlock(s.read()), { tags: { blue: LIVE_TAG, green: GREEN_TAG }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "blue", canary: 0, previous: { color: "green", tag: GREEN_TAG, by: "rollback" } });
            assert.match(named.stdout, /\nnote: blue 2020\.08\.06-1 goes live \(named by the operator; nothing checked it was live before\), with no prepare stage; green 2020\.08\.07-1 keeps running unrouted\n/);
        });

        it("rollback after prepare + abort is refused: the other color holds the aborted release", () => {
            const s = stackWith(DEPLOYED);
            assert.equal(s.release(["prepare", NEW_TAG]).code, 0);
            const aborted = s.release(["abort"]);
            assert.equal(aborted.code, 0, aborted.stderr);
            assert.match(aborted.stdout, /\nnote: blue 2020\.08\.06-1 stays live; green 2020\.08\.08-1 keeps running unrouted \(a later plain rollback is refused: it never went live\)\n/);
            const text = s.read();
            const r = s.release(["rollback"]);
            assert.equal(r.code, 1);
            assert.equal(
                r.stderr.split("\n")[0],
                "cannot rollback: green held 2020.08.07-1 before the last deploy but now holds 2020.08.08-1, prepared since and never deployed (aborted); to put green 2020.08.08-1 live anyway, name the color: rollback green",
            );
            assert.equal(s.read(), text);
        });

        it("keeps the file's comments and mode, and leaves no temp file behind", () => {
            const s = stackWith(STEADY);
            fs.chmodSync(s.file, 0o640);
            assert.equal(s.release(["prepare", NEW_TAG]).code, 0);
            const comments = (text: string) => text.split("\n").filter((line) => line.trimStart().startsWith("#"));
            assert.equal(comments(s.read()).length, 7);
            assert.deepEqual(comments(s.read()), comments(STEADY));
            assert.equal(fs.statSync(s.file).mode & 0o777, 0o640);
            assert.deepEqual(fs.readdirSync(s.dir), [path.basename(s.file)]);
        });

        it("replaces the file by a rename (a new inode), never rewriting it in place", () => {
            const s = stackWith(STEADY);
            const before = fs.statSync(s.file).ino;
            assert.equal(s.release(["prepare", NEW_TAG]).code, 0);
            assert.notEqual(fs.statSync(s.file).ino, before);
        });
    });

    describe("mutable tags and digests", () => {
        it("prepare latest is refused unless portal:mutableTags lists it; then it stamps green's pull", () => {
            const s = stackWith(STEADY);
            const r = s.release(["prepare", "latest"]);
            assert.equal(r.code, 1);
            assert.equal(
                r.stderr,
                "cannot prepare: the result would not be a valid config:\nportal:release.tags.green is \"latest\", a tag that names no version and can be re-pushed (a server that has it never pulls it again); allowed: a versioned tag, the tag pinned to a digest (latest@sha256:<64 hex>), or latest listed in portal:mutableTags to pull it again on every prepare\n",
            );
            assert.equal(s.read(), STEADY);
            const listed = STEADY.replace("  portal:dir: /srv/portal\n", "  portal:dir: /srv/portal\n  portal:mutableTags: [latest]\n");
            const m = stackWith(listed);
            const ok = m.release(["prepare", "latest"]);
            assert.equal(ok.code, 0, ok.stderr);
            assert.match(m.read(), /\n {4}canary: 0\n {4}pulled: \{ green: "\d{8}-\d{6}" \}\n/);
            assert.match(ok.stdout, /\nnote: latest is a mutable tag: green pulls it again \(pulled\.green \d{8}-\d{6}\)\n/);
        });

        it("prepare of a tag pinned to a digest writes it quoted, as it is", () => {
            const pinned = `${NEW_TAG}@sha256:${"0123456789abcdef".repeat(4)}`;
            const s = stackWith(STEADY);
            const r = s.release(["prepare", pinned]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), withLines(STEADY, { [`      green: "${GREEN_TAG}"`]: `      green: "${pinned}"`, "    passive: blue": "    passive: green" }));
        });
    });

    describe("status", () => {
        it("shows stage, colors, tags, canary and the legal verbs; writes nothing", () => {
            const s = stackWith(PREPARED_CANARY_5);
            const r = s.release(["status"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(
                r.stdout,
                [
                    "stack production: prepared",
                    "  live:    blue (2020.08.06-1)",
                    "  passive: green (2020.08.07-1)",
                    "  canary:  5%",
                    "  tags:    blue=2020.08.06-1 green=2020.08.07-1",
                    "legal now: canary <percent>, deploy, abort",
                    "",
                ].join("\n"),
            );
            assert.equal(s.read(), PREPARED_CANARY_5);
            assert.equal(
                stackWith(DEPLOYED).release(["status"]).stdout,
                [
                    "stack production: steady",
                    "  live:    blue (2020.08.06-1)",
                    "  passive: blue (2020.08.06-1)",
                    "  canary:  0%",
                    "  tags:    blue=2020.08.06-1 green=2020.08.07-1",
                    "  before the last deploy: green (2020.08.07-1)",
                    "  rollback: green 2020.08.07-1 goes live (it was live before the last deploy)",
                    "legal now: prepare <tag>, reconfigure, rollback",
                    "",
                ].join("\n"),
            );
            assert.match(stackWith(STEADY).release(["status"]).stdout, /: steady\n[\s\S]*\n {2}rollback: only by name \(rollback green\): the release block has no previous record[^\n]*\nlegal now: prepare <tag>, reconfigure, rollback green\n$/);
        });
    });

    describe("--dry-run", () => {
        it("prints the same changes and writes nothing", () => {
            const real = stackWith(STEADY).release(["prepare", NEW_TAG]);
            const s = stackWith(STEADY);
            const dry = s.release(["prepare", NEW_TAG, "--dry-run"]);
            assert.equal(dry.code, 0, dry.stderr);
            assert.equal(s.read(), STEADY);
            assert.deepEqual(fs.readdirSync(s.dir), [path.basename(s.file)]);
            assert.match(dry.stdout, /^dry run: prepare 2020\.08\.08-1/);
            assert.match(dry.stdout, /nothing written \(dry run\)/);
            const changeLines = (out: string) => out.split("\n").filter((l) => l.includes("→") || l.includes("pulumi "));
            assert.deepEqual(changeLines(dry.stdout), changeLines(real.stdout));
            assert.equal(changeLines(dry.stdout).length, 4);
        });
    });

    describe("refusals: exit 1 with the reason, file byte-identical", () => {
        const refusals: [string, string, string[], RegExp][] = [
            ["prepare when prepared", PRODUCTION, ["prepare", NEW_TAG], /cannot prepare 2020\.08\.08-1: prepare needs a steady release and this one is prepared/],
            ["canary when steady", STEADY, ["canary", "5"], /cannot canary 5: canary needs a prepared release and this one is steady/],
            ["canary 100", PRODUCTION, ["canary", "100"], /cannot canary 100: 100% is a deploy, not a canary: run deploy/],
            ["canary 101", PRODUCTION, ["canary", "101"], /cannot canary 101: 101 is over 99\.99/],
            ["canary 0.123", PRODUCTION, ["canary", "0.123"], /cannot canary 0\.123: "0\.123" is not a percentage from 0 to 99\.99 with at most two decimals/],
            ["canary -1", PRODUCTION, ["canary", "-1"], /cannot canary -1: "-1" is not a percentage/],
            ["canary abc", PRODUCTION, ["canary", "abc"], /cannot canary abc: "abc" is not a percentage/],
            ["deploy when steady", STEADY, ["deploy"], /cannot deploy: deploy needs a prepared release and this one is steady/],
            ["abort when steady", STEADY, ["abort"], /cannot abort: abort needs a prepared release and this one is steady/],
            ["rollback when prepared", PRODUCTION, ["rollback"], /cannot rollback: rollback needs a steady release and this one is prepared/],
            ["rollback with no record of a deploy", STEADY, ["rollback"], /^cannot rollback: the release block has no previous record, so nothing says which release was live before the last deploy; to put green 2020\.08\.07-1 live anyway, name the color: rollback green\n/],
            ["rollback naming the live color", DEPLOYED, ["rollback", "blue"], /^cannot rollback blue: blue is already live; rollback green puts green 2020\.08\.07-1 live\n/],
            ["rollback naming a color of no track", DEPLOYED, ["rollback", "purple"], /^cannot rollback purple: "purple" is not a color of this track; allowed: blue, green\n/],
            ["rollback without a tag on the other color", STEADY_BLUE_ONLY, ["rollback"], /cannot rollback: the other color green has no tag to roll back to/],
            ["a tag outside Docker's grammar", STEADY, ["prepare", "bad tag!"], /cannot prepare bad tag!: "bad tag!" is not a Docker tag/],
        ];
        for (const [name, text, argv, reason] of refusals) {
            it(name, () => {
                const s = stackWith(text);
                for (const args of [argv, [...argv, "--dry-run"]]) {
                    const r = s.release(args);
                    assert.equal(r.code, 1, r.stdout);
                    assert.match(r.stderr, reason);
                    assert.match(r.stderr, /\nstage (steady|prepared): live blue/);
                    assert.match(r.stderr, /\nlegal now: /);
                    assert.equal(r.stdout, "");
                    assert.equal(s.read(), text);
                }
            });
        }

        it("a stack file whose config is invalid now: names the key, changes nothing", () => {
            const text = withLines(STEADY, { "    canary: 0": "    canary: 150" });
            const s = stackWith(text);
            const r = s.release(["rollback"]);
            assert.equal(r.code, 1);
            assert.match(r.stderr, /is not a valid portal config now; fix it first:\nportal:release\.canary is 150; allowed: /);
            assert.equal(s.read(), text);
        });

        it("a missing stack file: a usage error listing the stacks that exist", () => {
            const s = stackWith(STEADY);
            const r = runRelease(["status", "--stack", "staging"], s.dir);
            assert.equal(r.code, 2);
            assert.equal(r.stderr.split("\n")[0], `no stack staging: no Pulumi.staging.yaml in ${s.dir} (stacks: production)`);
        });
    });

    describe("usage: exit 2, file byte-identical", () => {
        const usages: [string, string[], RegExp][] = [
            ["unknown verb", ["promote", "--stack", "production"], /^unknown verb promote \(verbs: status, prepare, reconfigure, canary, deploy, abort, rollback, split\)\nusage: npm run release -- <verb>/],
            ["missing verb", ["--stack", "production"], /^missing verb \(verbs: status, prepare, reconfigure, canary, deploy, abort, rollback, split\)\nusage: /],
            ["missing --stack", ["deploy"], /^--stack <name> is required \(stacks: production\)\n/],
            ["--stack without a name", ["deploy", "--stack"], /^--stack needs a value\n/],
            ["a stack name that is a path", ["deploy", "--stack", "../production"], /^--stack \.\.\/production: a stack name is letters, digits, '\.', '_', '-'\n/],
            ["prepare without a tag", ["prepare", "--stack", "production"], /^prepare takes exactly one argument: prepare <tag>\n/],
            ["deploy with an argument", ["deploy", "now", "--stack", "production"], /^deploy takes no argument/],
            ["rollback with two colors", ["rollback", "blue", "green", "--stack", "production"], /^rollback takes at most 1 argument: rollback \[<color>\]\n/],
            ["split with one word", ["split", "py3", "--stack", "production"], /^split takes exactly 2 arguments: split <track> <percent>\n/],
            ["split with --track", ["split", "py3", "5", "--track", "py3", "--stack", "production"], /^split names its track as an argument \(split <track> <percent>\), not with --track\n/],
            ["an unknown option", ["deploy", "--stack", "production", "--force"], /^unknown option --force\n/],
            ["a mistyped option", ["deploy", "--stack", "production", "--dryrun"], /^unknown option --dryrun; did you mean --dry-run\?\n/],
            ["a mistyped verb", ["deplyo", "--stack", "production"], /^unknown verb deplyo; did you mean deploy\? \(verbs: /],
            ["a mistyped stack", ["status", "-s", "prodution"], /^no stack prodution: no Pulumi\.prodution\.yaml in \S+; did you mean production\? \(stacks: production\)\n/],
            ["a repeated flag", ["deploy", "--stack", "production", "-s=staging"], /^--stack is given twice \(production and staging\); allowed: once\n/],
            ["a repeated switch", ["deploy", "--stack", "production", "--dry-run", "--dry-run"], /^--dry-run is given twice; allowed: once\n/],
            ["a switch with a value", ["deploy", "--stack", "production", "--dry-run=yes"], /^--dry-run takes no value \(got --dry-run=yes\)\n/],
        ];
        for (const [name, argv, message] of usages) {
            it(name, () => {
                const s = stackWith(PRODUCTION);
                const r = runRelease(argv, s.dir);
                assert.equal(r.code, 2);
                assert.match(r.stderr, message);
                assert.match(r.stderr, /\nusage: npm run release -- <verb> \[arg\] --stack <name> \[--dry-run\]\n/);
                assert.equal(s.read(), PRODUCTION);
            });
        }
    });
});
