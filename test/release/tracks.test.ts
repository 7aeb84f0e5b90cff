// The release helper on tracks (--track <name>): each verb edits only that track's
// `portal:tracks[i].release`, with the track's own colors, line for line; the main
// track's release and every other track keep every byte; refusals name the track; a walk
// on py3 is checked after each step with the offline plan (planStack, run one at a time:
// global mock runtime) and a resource diff of the real program.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ConfigError, validateConfig, type ReleaseConfig } from "../../lib/config/config";
import { legalVerbs, releaseChanges, transition, type Transition } from "../../lib/release/releaseTransitions";
import { MAIN_RELEASE, StackFileError, applyReleaseChanges, portalRawConfig, releaseKey, trackRelease } from "../../lib/release/stackFileEdit";
import { diff } from "../../offline/diff";
import { evaluate } from "../../offline/evaluate";
import { planStack, readStackFile, type Plan } from "../../offline/plan";
import { NEW_TAG, PINNED_ENV, STEADY, withLines, stackDirsForSuite } from "./fixtures";

const PY3_LIVE = "py3-2020.08.01-1";
const PY3_NEW = "py3-2020.08.09-1";
const PY3_RED_LINE = `          red: "${PY3_LIVE}" # first py3 release`;
const PY3_BLACK_LINE = `          black: "${PY3_NEW}"`;

/** The main track's own listeners, written into portal:nginx of the steady production file. */
const MAIN_STEADY = withLines(STEADY, {
    "      cookie: portal_client": [
        "      cookie: portal_client",
        "    # The main track's own listeners (py3 has its own, below).",
        "    site:",
        "      address: 0.0.0.0",
        "      live: 8080",
        "      passive: 8081",
    ].join("\n"),
});

/** The env py3's two colors are pinned to (its release.env). */
const PY3_ENV = { red: { DJANGO_SETTINGS_MODULE: "portal.settings.production" }, black: { DJANGO_SETTINGS_MODULE: "portal.settings.production" } };

const PY3_TRACK_LINES = [
    "  # Side by side: the Python 3 generation, on its own colors, ports and listeners.",
    "  portal:tracks:",
    "    - name: py3",
    "      colors: [red, black]",
    "      image: registry.example.com/portal-py3",
    "      release:",
    "        env: { red: { DJANGO_SETTINGS_MODULE: portal.settings.production }, black: { DJANGO_SETTINGS_MODULE: portal.settings.production } }",
    "        tags:",
    PY3_RED_LINE,
    "        live: red",
    "        passive: red",
    "        canary: 0",
    "      hostPorts:",
    "        red: 8011",
    "        black: 8012",
    "      site:",
    "        address: 0.0.0.0",
    "        live: 8180",
    "        passive: 8181",
];

/** Retired, in flow style: must never change when py3 does, and refuses every verb. */
const PY2_TRACK_LINES = [
    "    # Retired: no edge traffic, containers unprotected; remove it when they may go.",
    "    - name: py2",
    "      colors: [cyan, pink]",
    "      retired: true",
    '      release: {tags: {cyan: "py2-2019.12.01-1", pink: "py2-2019.11.02-1"}, live: cyan}',
    "      hostPorts: {cyan: 8021, pink: 8022}",
    "      site: {address: 0.0.0.0, live: 8280, passive: 8281}",
];

/** Steady main track (blue) and a steady py3 track on red with no black tag yet. */
const TRACKS = MAIN_STEADY + PY3_TRACK_LINES.join("\n") + "\n";
const WITH_PY2 = TRACKS + PY2_TRACK_LINES.join("\n") + "\n";

/** py3 prepared: black carries PY3_NEW and is passive. */
const PY3_PREPARED = withLines(TRACKS, { [PY3_RED_LINE]: `${PY3_RED_LINE}\n${PY3_BLACK_LINE}`, "        passive: red": "        passive: black" });
const PY3_CANARY_5 = withLines(PY3_PREPARED, { "        canary: 0": "        canary: 5" });
/** py3 steady on red, black keeps a tag: rollback is legal. */
const PY3_STEADY_BOTH = withLines(PY3_PREPARED, { "        passive: black": "        passive: red" });
/** py3 steady on red after the helper deployed red over black: a plain rollback puts black back. */
const PY3_DEPLOYED = withLines(PY3_STEADY_BOTH, { "        canary: 0": `        canary: 0\n        previous: { color: black, tag: "${PY3_NEW}", by: deploy }` });
/** The main track prepared (live blue, passive green) while py3 is steady. */
const MAIN_PREPARED = withLines(TRACKS, { "    passive: blue": "    passive: green" });

/** `text` without the given lines, each of which must occur exactly once. */
function withoutLines(text: string, drop: string[]): string {
    const lines = text.split("\n");
    for (const line of drop) assert.equal(lines.filter((l) => l === line).length, 1, `expected exactly one line ${JSON.stringify(line)}`);
    return lines.filter((l) => !drop.includes(l)).join("\n");
}

type StackConfig = { config: Record<string, unknown> };
const configOf = (text: string) => (parse(text) as StackConfig).config;
const tracksIn = (text: string) => configOf(text)["portal:tracks"] as { name: string; release: unknown }[];
const py3Release = (text: string) => tracksIn(text).find((t) => t.name === "py3")!.release;
/** The text before `portal:tracks`: the main track's whole config, byte for byte. */
const mainPart = (text: string) => text.slice(0, text.indexOf("  # Side by side"));
/** The text from the py2 entry on. */
const py2Part = (text: string) => text.slice(text.indexOf("    # Retired"));

describe("release helper on tracks (--track)", () => {
    const stackWith = stackDirsForSuite();

    it("fixtures: a valid config with a steady main track, py3 on red/black, py2 retired", () => {
        const config = validateConfig(portalRawConfig(WITH_PY2));
        assert.deepEqual(config.release, { tags: { blue: "2020.08.06-1", green: "2020.08.07-1" }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "blue", canary: 0 });
        assert.deepEqual(config.nginx.site, { address: "0.0.0.0", live: 8080, passive: 8081 });
        assert.deepEqual(
            config.tracks.map((t) => [t.name, t.colors, t.release, t.hostPorts, t.site, t.retired]),
            [
                ["py3", ["red", "black"], { tags: { red: PY3_LIVE }, env: PY3_ENV, live: "red", passive: "red", canary: 0 }, { red: 8011, black: 8012 }, { address: "0.0.0.0", live: 8180, passive: 8181 }, false],
                ["py2", ["cyan", "pink"], { tags: { cyan: "py2-2019.12.01-1", pink: "py2-2019.11.02-1" }, live: "cyan", passive: "cyan", canary: 0 }, { cyan: 8021, pink: 8022 }, { address: "0.0.0.0", live: 8280, passive: 8281 }, true],
            ],
        );
        for (const text of [TRACKS, PY3_PREPARED, PY3_CANARY_5, PY3_STEADY_BOTH, MAIN_PREPARED]) validateConfig(portalRawConfig(text));
    });

    describe("status", () => {
        const MAIN_BLOCK = [
            "stack production: steady",
            "  live:    blue (2020.08.06-1)",
            "  passive: blue (2020.08.06-1)",
            "  canary:  0%",
            "  tags:    blue=2020.08.06-1 green=2020.08.07-1",
            "  rollback: only by name (rollback green): the release block has no previous record, so nothing says which release was live before the last deploy",
            "legal now: prepare <tag>, reconfigure, rollback green",
            "",
        ].join("\n");
        const PY3_BLOCK = [
            "stack production, track py3: prepared",
            "  live:    red (py3-2020.08.01-1)",
            "  passive: black (py3-2020.08.09-1)",
            "  canary:  5%",
            "  tags:    red=py3-2020.08.01-1 black=py3-2020.08.09-1",
            "legal now: canary <percent>, deploy, abort",
            "",
        ].join("\n");
        const PY2_BLOCK = [
            "stack production, track py2 (retired): steady",
            "  live:    cyan (py2-2019.12.01-1)",
            "  passive: cyan (py2-2019.12.01-1)",
            "  canary:  0%",
            "  tags:    cyan=py2-2019.12.01-1 pink=py2-2019.11.02-1",
            "legal now: none (the track is retired)",
            "",
        ].join("\n");
        const WITH_PY2_CANARY = PY3_CANARY_5 + PY2_TRACK_LINES.join("\n") + "\n";

        it("without --track: the main track as always, then each other track; writes nothing", () => {
            const s = stackWith(WITH_PY2_CANARY);
            const r = s.release(["status"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout, [MAIN_BLOCK, PY3_BLOCK, PY2_BLOCK].join("\n"));
            assert.equal(s.read(), WITH_PY2_CANARY);
            // The main block is exactly what a stack without tracks prints.
            assert.equal(stackWith(STEADY).release(["status"]).stdout, MAIN_BLOCK);
        });

        it("with --track: only that track (--track main: the main track alone)", () => {
            const s = stackWith(WITH_PY2_CANARY);
            assert.equal(s.release(["status", "--track", "py3"]).stdout, PY3_BLOCK);
            assert.equal(s.release(["status", "--track=py2"]).stdout, PY2_BLOCK);
            assert.equal(s.release(["status", "--track", "main"]).stdout, MAIN_BLOCK);
            assert.equal(s.read(), WITH_PY2_CANARY);
        });
    });

    describe("each verb on --track py3: only py3's lines change", () => {
        it("reconfigure on py3: black gets red's tag, the current app.env and its own copy of the app secrets; main untouched", () => {
            const cipher = "v1:bm9uY2U=:cHkzIHNlY3JldA==";
            const text = `${TRACKS}  portal:appSecrets:\n    DATABASE_PASSWORD:\n      secure: ${cipher}\n`.replace(
                "    env:\n      DJANGO_SETTINGS_MODULE: portal.settings.production\n",
                '    env:\n      DJANGO_SETTINGS_MODULE: portal.settings.production\n      PY3: "yes"\n',
            );
            const s = stackWith(text);
            const r = s.release(["reconfigure", "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            const config = parse(s.read()).config;
            assert.deepEqual(config["portal:tracks"][0].release.tags, { red: PY3_LIVE, black: PY3_LIVE });
            assert.deepEqual(config["portal:tracks"][0].release.env.black, { DJANGO_SETTINGS_MODULE: "portal.settings.production", PY3: "yes" });
            assert.deepEqual(config["portal:tracks"][0].release.env.red, PY3_ENV.red);
            assert.deepEqual(config["portal:colorSecrets"], { black: { DATABASE_PASSWORD: { secure: cipher } } });
            assert.equal(mainPart(s.read()), mainPart(text));
            assert.match(r.stdout, /^note: black env: \+ PY3$/m);
        });

        it("prepare: adds black's tag under red (block mapping in a list item), makes black passive", () => {
            const s = stackWith(TRACKS);
            const r = s.release(["prepare", PY3_NEW, "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), PY3_PREPARED);
            assert.deepEqual(py3Release(s.read()), { tags: { red: PY3_LIVE, black: PY3_NEW }, env: PY3_ENV, live: "red", passive: "black", canary: 0 });
            assert.equal(
                r.stdout,
                [
                    "prepare py3-2020.08.09-1 on stack production, track py3 (Pulumi.production.yaml)",
                    '  portal:tracks[0].release.tags.black  (unset) → "py3-2020.08.09-1"',
                    "  portal:tracks[0].release.passive     red → black",
                    "stage prepared: live red (py3-2020.08.01-1), passive black (py3-2020.08.09-1), canary 0% (was steady)",
                    "wrote Pulumi.production.yaml. Next:",
                    "  pulumi preview -s production",
                    "  pulumi up -s production",
                    "then legal: canary <percent>, deploy, abort",
                    "",
                ].join("\n"),
            );
            assert.equal(r.stderr, "");
        });

        it("prepare when black already has a tag: replaces that scalar only", () => {
            const s = stackWith(PY3_STEADY_BOTH);
            const r = s.release(["prepare", "py3-2020.08.10-1", "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), withLines(PY3_STEADY_BOTH, { [PY3_BLACK_LINE]: '          black: "py3-2020.08.10-1"', "        passive: red": "        passive: black" }));
            assert.match(r.stdout, /portal:tracks\[0\]\.release\.tags\.black {2}"py3-2020\.08\.09-1" → "py3-2020\.08\.10-1"\n/);
        });

        it("prepare on a track whose tags are a flow mapping: the tag goes inside the braces", () => {
            const text = withLines(withoutLines(TRACKS, [PY3_RED_LINE]), { "        tags:": `        tags: {red: "${PY3_LIVE}"} # flow` });
            const s = stackWith(text);
            const r = s.release(["prepare", PY3_NEW, "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), withLines(text, { [`        tags: {red: "${PY3_LIVE}"} # flow`]: `        tags: {red: "${PY3_LIVE}", black: "${PY3_NEW}"} # flow`, "        passive: red": "        passive: black" }));
        });

        it("canary: sets py3's share, only that line changes", () => {
            const s = stackWith(PY3_PREPARED);
            const r = s.release(["canary", "0.5", "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), withLines(PY3_PREPARED, { "        canary: 0": "        canary: 0.5" }));
            assert.match(r.stdout, /^canary 0\.5 on stack production, track py3 \(Pulumi\.production\.yaml\)\n {2}portal:tracks\[0\]\.release\.canary {2}0 → 0\.5\n/);
        });

        it("canary with py3's current share: nothing to change, naming the track", () => {
            const s = stackWith(PY3_CANARY_5);
            const r = s.release(["canary", "5", "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /^canary 5: nothing to change on stack production, track py3\nstage prepared: live red/);
            assert.equal(s.read(), PY3_CANARY_5);
        });

        it("deploy: py3's live := black, canary 0", () => {
            const s = stackWith(PY3_CANARY_5);
            const r = s.release(["deploy", "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(
                s.read(),
                withLines(PY3_PREPARED, { "        live: red": "        live: black", "        canary: 0": `        canary: 0\n        previous: { color: red, tag: "${PY3_LIVE}", by: deploy }` }),
            );
            assert.match(r.stdout, /stage steady: live black \(py3-2020\.08\.09-1\), passive black \(py3-2020\.08\.09-1\), canary 0% \(was prepared\)\n/);
            assert.match(r.stdout, /\n {2}portal:tracks\[0\]\.release\.previous {2}\(unset\) → \{ color: red, tag: "py3-2020\.08\.01-1", by: deploy \}\n/);
            assert.match(r.stdout, /then legal: prepare <tag>, reconfigure, rollback\n$/);
        });

        it("abort: py3's passive := red, canary 0, black keeps its tag", () => {
            const s = stackWith(PY3_CANARY_5);
            const r = s.release(["abort", "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(s.read(), PY3_STEADY_BOTH);
            assert.match(r.stdout, /portal:tracks\[0\]\.release\.passive {2}black → red\n {2}portal:tracks\[0\]\.release\.canary {3}5 → 0\n/);
        });

        it("rollback: py3's live := passive := black, naming what goes live; previous records the rollback", () => {
            const s = stackWith(PY3_DEPLOYED);
            const r = s.release(["rollback", "--track", "py3"]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(
                s.read(),
                withLines(PY3_DEPLOYED, {
                    "        live: red": "        live: black",
                    "        passive: red": "        passive: black",
                    [`        previous: { color: black, tag: "${PY3_NEW}", by: deploy }`]: `        previous: { color: red, tag: "${PY3_LIVE}", by: rollback }`,
                }),
            );
            assert.match(r.stdout, /\nnote: black py3-2020\.08\.09-1 goes live \(it was live before the last deploy\), with no prepare stage; red py3-2020\.08\.01-1 keeps running unrouted\n/);
            assert.match(r.stdout, /then legal: prepare <tag>, reconfigure, rollback red\n$/);
            const again = s.release(["rollback", "--track", "py3"]);
            assert.equal(again.code, 1);
            assert.match(again.stderr, /^track py3: cannot rollback: the last change of live was a rollback \(from red py3-2020\.08\.01-1\); another rollback would put red py3-2020\.08\.01-1, the release rolled back from, live again; to put red py3-2020\.08\.01-1 live anyway, name the color: rollback red\n/);
        });

        it("--track main (and no --track) edit the main track exactly as before, py3 untouched", () => {
            const expected = withLines(TRACKS, { '      green: "2020.08.07-1"': `      green: "${NEW_TAG}"`, "    passive: blue": "    passive: green" });
            const plain = stackWith(TRACKS).release(["prepare", NEW_TAG]);
            const s = stackWith(TRACKS);
            const named = s.release(["prepare", NEW_TAG, "--track", "main"]);
            assert.equal(named.code, 0, named.stderr);
            assert.equal(s.read(), expected);
            assert.equal(named.stdout, plain.stdout);
            assert.match(named.stdout, /^prepare 2020\.08\.08-1 on stack production \(Pulumi\.production\.yaml\)\n {2}portal:release\.tags\.green {2}"2020\.08\.07-1" → "2020\.08\.08-1"\n/);
            // The same report as on a stack without tracks.
            assert.equal(stackWith(STEADY).release(["prepare", NEW_TAG]).stdout, plain.stdout);
        });
    });

    it("a whole py3 rollout never changes a byte of the main track or of the other tracks", () => {
        const s = stackWith(WITH_PY2);
        const steps = [["prepare", PY3_NEW], ["canary", "0.5"], ["canary", "5"], ["abort"], ["prepare", "py3-2020.08.10-1"], ["deploy"], ["rollback"], ["rollback", "black"]];
        const mainConfig = () => {
            const { "portal:tracks": _, ...rest } = configOf(s.read());
            return rest;
        };
        const before = { main: mainPart(WITH_PY2), py2: py2Part(WITH_PY2), config: mainConfig(), py2Track: tracksIn(WITH_PY2)[1] };
        for (const step of steps) {
            const r = s.release([...step, "--track", "py3"]);
            assert.equal(r.code, 0, `${step.join(" ")}: ${r.stderr}`);
            assert.equal(mainPart(s.read()), before.main, step.join(" "));
            assert.equal(py2Part(s.read()), before.py2, step.join(" "));
            assert.deepEqual(mainConfig(), before.config);
            assert.deepEqual(tracksIn(s.read())[1], before.py2Track);
        }
        assert.deepEqual(py3Release(s.read()), {
            tags: { red: PY3_LIVE, black: "py3-2020.08.10-1" },
            env: PY3_ENV,
            live: "black",
            passive: "black",
            canary: 0,
            previous: { color: "red", tag: PY3_LIVE, by: "rollback" },
        });
    });

    describe("--dry-run on a track", () => {
        it("prints the same changes and writes nothing", () => {
            const real = stackWith(TRACKS).release(["prepare", PY3_NEW, "--track", "py3"]);
            const s = stackWith(TRACKS);
            const dry = s.release(["prepare", PY3_NEW, "--track", "py3", "--dry-run"]);
            assert.equal(dry.code, 0, dry.stderr);
            assert.equal(s.read(), TRACKS);
            assert.deepEqual(fs.readdirSync(s.dir), [path.basename(s.file)]);
            assert.match(dry.stdout, /^dry run: prepare py3-2020\.08\.09-1 on stack production, track py3 \(Pulumi\.production\.yaml\)\n/);
            assert.match(dry.stdout, /nothing written \(dry run\)/);
            const changeLines = (out: string) => out.split("\n").filter((l) => l.includes("→") || l.includes("pulumi "));
            assert.deepEqual(changeLines(dry.stdout), changeLines(real.stdout));
            assert.equal(changeLines(dry.stdout).length, 4);
        });
    });

    describe("refusals: exit 1 with the reason, file byte-identical (with and without --dry-run)", () => {
        const refusals: [string, string, string[], RegExp][] = [
            ["an unknown track, naming the known ones", WITH_PY2, ["prepare", PY3_NEW, "--track", "py9"], /^unknown track py9 on stack production; did you mean py3\?; known tracks: main, py3, py2 \(retired\)\n$/],
            ["status of an unknown track", TRACKS, ["status", "--track", "py9"], /^unknown track py9 on stack production; did you mean py3\?; known tracks: main, py3\n$/],
            ["a track on a stack without tracks", STEADY, ["deploy", "--track", "py3"], /^unknown track py3 on stack production; known tracks: main\n$/],
            ["prepare on a retired track", WITH_PY2, ["prepare", "py2-2020.01.01-1", "--track", "py2"], /^track py2: cannot prepare py2-2020\.01\.01-1: the track is retired \(portal:tracks\[1\]\.retired: true\); it serves no edge traffic/],
            ["rollback on a retired track", WITH_PY2, ["rollback", "--track", "py2"], /^track py2: cannot rollback: the track is retired/],
            ["prepare on py3 while py3 is prepared (main steady)", PY3_PREPARED, ["prepare", "py3-2020.08.10-1", "--track", "py3"], /^track py3: cannot prepare py3-2020\.08\.10-1: prepare needs a steady release and this one is prepared\nstage prepared: live red \(py3-2020\.08\.01-1\), passive black \(py3-2020\.08\.09-1\), canary 0%\nlegal now: canary <percent>, deploy, abort\n$/],
            ["canary on py3 while only main is prepared", MAIN_PREPARED, ["canary", "5", "--track", "py3"], /^track py3: cannot canary 5: canary needs a prepared release and this one is steady\nstage steady: live red \(py3-2020\.08\.01-1\), passive red \(py3-2020\.08\.01-1\), canary 0%\nlegal now: prepare <tag>, reconfigure\n$/],
            ["deploy on the main track while only py3 is prepared", PY3_PREPARED, ["deploy"], /^cannot deploy: deploy needs a prepared release and this one is steady\nstage steady: live blue/],
            ["rollback on py3 with no tag on black", TRACKS, ["rollback", "--track", "py3"], /^track py3: cannot rollback: the other color black has no tag to roll back to\n/],
            ["canary 100 on py3", PY3_PREPARED, ["canary", "100", "--track", "py3"], /^track py3: cannot canary 100: 100% is a deploy/],
            ["a tag outside Docker's grammar on py3", TRACKS, ["prepare", "bad tag!", "--track", "py3"], /^track py3: cannot prepare bad tag!: "bad tag!" is not a Docker tag/],
            [
                "a py3 release naming a main color (invalid config now)",
                withLines(TRACKS, { "        live: red": "        live: blue" }),
                ["prepare", PY3_NEW, "--track", "py3"],
                /is not a valid portal config now; fix it first:\n[\s\S]*portal:tracks\[0\]\.release\.live is "blue"; allowed: red, black/,
            ],
        ];
        for (const [name, text, argv, reason] of refusals) {
            it(name, () => {
                const s = stackWith(text);
                for (const args of [argv, [...argv, "--dry-run"]]) {
                    const r = s.release(args);
                    assert.equal(r.code, 1, r.stdout);
                    assert.match(r.stderr, reason);
                    assert.equal(r.stdout, "");
                    assert.equal(s.read(), text);
                }
            });
        }

        it("status of a retired track is allowed", () => {
            const r = stackWith(WITH_PY2).release(["status", "--track", "py2"]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /^stack production, track py2 \(retired\): steady\n[\s\S]*legal now: none \(the track is retired\)\n$/);
        });

        it("--track without a name is a usage error (exit 2)", () => {
            for (const argv of [["deploy", "--track"], ["deploy", "--track", "--dry-run"], ["deploy", "--track="]]) {
                const s = stackWith(TRACKS);
                const r = s.release(argv);
                assert.equal(r.code, 2, argv.join(" "));
                assert.match(r.stderr, /^--track needs a track name/);
                assert.match(r.stderr, /\n {7}npm run release -- <verb> \[arg\] --stack <name> --track <name> \[--dry-run\]\n/);
                assert.equal(s.read(), TRACKS);
            }
        });
    });

    describe("colors: a track's verbs only ever name that track's pair", () => {
        const RED_BLACK = ["red", "black"] as const;
        const py3: ReleaseConfig = { tags: { red: PY3_LIVE }, env: PY3_ENV, live: "red", passive: "red", canary: 0 };
        const released = (t: Transition) => {
            assert.ok(t.ok, t.ok ? "" : t.reason);
            return t.release;
        };

        it("prepare on py3 puts the tag on black, never on blue or green", () => {
            const prepared = released(transition(py3, "prepare", PY3_NEW, RED_BLACK));
            assert.deepEqual(prepared, { tags: { red: PY3_LIVE, black: PY3_NEW }, env: PY3_ENV, live: "red", passive: "black", canary: 0 });
            assert.deepEqual(releaseChanges(py3, prepared, RED_BLACK), [
                { path: ["tags", "black"], before: undefined, after: PY3_NEW },
                { path: ["passive"], before: "red", after: "black" },
            ]);
            const onBlack: ReleaseConfig = { tags: { red: "a", black: "b" }, live: "black", passive: "black", canary: 0 };
            assert.deepEqual(released(transition(onBlack, "prepare", "c", RED_BLACK)).tags, { red: "c", black: "b" });
            assert.deepEqual(legalVerbs(onBlack, RED_BLACK), ["prepare", "reconfigure", "rollback"]);
            assert.deepEqual(released(transition(onBlack, "rollback", "red", RED_BLACK)), { ...onBlack, live: "red", passive: "red", previous: { color: "black", tag: "b", by: "rollback" } });
            const deployedBlack: ReleaseConfig = { ...onBlack, previous: { color: "red", tag: "a", by: "deploy" } };
            assert.deepEqual(released(transition(deployedBlack, "rollback", undefined, RED_BLACK)), { ...onBlack, live: "red", passive: "red", previous: { color: "black", tag: "b", by: "rollback" } });
            assert.match((transition(deployedBlack, "rollback", "blue", RED_BLACK) as { reason: string }).reason, /^cannot rollback blue: "blue" is not a color of this track; allowed: red, black\n/);
        });

        it("a verb given the wrong pair refuses instead of putting a tag on blue", () => {
            const t = transition(py3, "prepare", PY3_NEW);
            assert.ok(!t.ok);
            assert.match(t.reason, /^cannot prepare py3-2020\.08\.09-1: the release uses red, not one of this track's colors blue, green$/);
            assert.ok(!transition({ ...py3, tags: { red: "a", blue: "b" } }, "rollback", undefined, RED_BLACK).ok);
        });

        it("a tag for blue written into py3's block is refused by validation, naming the key", () => {
            const edited = applyReleaseChanges(TRACKS, [{ path: ["tags", "blue"], before: undefined, after: PY3_NEW }], trackRelease(0));
            assert.equal(edited, withLines(TRACKS, { [PY3_RED_LINE]: `${PY3_RED_LINE}\n          blue: "${PY3_NEW}"` }));
            assert.throws(
                () => validateConfig(portalRawConfig(edited)),
                (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.key === "portal:tracks[0].release.tags.blue"),
            );
        });

        it("after prepare --track py3, py3's tags hold red and black only, main's blue and green unchanged", () => {
            const s = stackWith(TRACKS);
            assert.equal(s.release(["prepare", PY3_NEW, "--track", "py3"]).code, 0);
            assert.deepEqual(Object.keys((py3Release(s.read()) as { tags: object }).tags), ["red", "black"]);
            assert.deepEqual(configOf(s.read())["portal:release"], configOf(TRACKS)["portal:release"]);
        });
    });

    describe("stack file edit at a track's release block", () => {
        it("names keys as validation does", () => {
            assert.equal(releaseKey(["tags", "black"], trackRelease(0)), "portal:tracks[0].release.tags.black");
            assert.equal(releaseKey(["canary"], trackRelease(12)), "portal:tracks[12].release.canary");
            assert.equal(releaseKey([], trackRelease(1)), "portal:tracks[1].release");
            assert.equal(releaseKey(["tags", "green"]), "portal:release.tags.green");
            assert.equal(releaseKey(["live"], MAIN_RELEASE), "portal:release.live");
        });

        it("adds missing passive and canary lines among the track's release keys", () => {
            const text = withoutLines(TRACKS, ["        passive: red", "        canary: 0"]);
            assert.deepEqual(py3Release(text), { tags: { red: PY3_LIVE }, env: PY3_ENV, live: "red" });
            const edited = applyReleaseChanges(text, [{ path: ["tags", "black"], before: undefined, after: PY3_NEW }, { path: ["passive"], before: "red", after: "black" }, { path: ["canary"], before: 0, after: 5 }], trackRelease(0));
            assert.equal(edited, withLines(text, { [PY3_RED_LINE]: `${PY3_RED_LINE}\n${PY3_BLACK_LINE}`, "        live: red": "        live: red\n        passive: black\n        canary: 5" }));
        });

        it("edits the second track of a list, leaving the first alone (flow mappings)", () => {
            const edited = applyReleaseChanges(WITH_PY2, [{ path: ["live"], before: "cyan", after: "pink" }], trackRelease(1));
            assert.equal(edited, WITH_PY2.replace("live: cyan}", "live: pink}"));
            const added = applyReleaseChanges(WITH_PY2, [{ path: ["passive"], before: "cyan", after: "pink" }], trackRelease(1));
            assert.equal(added, WITH_PY2.replace("live: cyan}", "live: cyan, passive: pink}"));
        });

        it("refuses a release block that is not in the file", () => {
            assert.throws(() => applyReleaseChanges(TRACKS, [{ path: ["live"], before: "x", after: "y" }], trackRelease(3)), (e: unknown) => e instanceof StackFileError && /portal:tracks\[3\]\.release is not a YAML mapping/.test(e.message));
        });
    });

    describe("a py3 walk, planned offline after each step (main track unchanged)", function () {
        this.timeout(120000);
        const SERVERS = ["web1", "web2", "web3"];

        interface Py3Expected {
            stage: "steady" | "prepared";
            release: ReleaseConfig;
            live: { color: string; tag: string };
            liveUpstream: string;
            passiveUpstream: string;
        }

        /** The plan without its other tracks: the main track's part, which no py3 step may change. */
        const mainPlan = (plan: Plan) => ({ ...plan, tracks: undefined });

        it("prepare -> canary 0.5 -> deploy -> rollback", async () => {
            const s = stackWith(TRACKS);
            const stack = () => readStackFile(s.file);
            const start = await planStack(stack());
            assert.equal(start.stage, "steady");
            assert.deepEqual(start.servers.map((server) => [server.name, server.upstreams.live, server.upstreams.passive]), SERVERS.map((name) => [name, "portal_blue", "portal_blue"]));
            assert.deepEqual(start.tracks?.map((t) => [t.name, t.stage]), [["py3", "steady"]]);
            let before = await evaluate(stack().config, stack().secrets);

            const step = async (argv: string[], expected: Py3Expected): Promise<Plan> => {
                const what = argv.join(" ");
                const r = s.release([...argv, "--track", "py3"]);
                assert.equal(r.code, 0, `${what}: ${r.stderr}`);
                const plan = await planStack(stack());
                // The main track: the same plan, stage, routes, containers, workers, notifications.
                assert.deepEqual(mainPlan(plan), mainPlan(start), what);
                // The py3 track in the intended stage on every server.
                assert.equal(plan.tracks?.length, 1);
                const py3 = plan.tracks![0];
                assert.deepEqual([py3.name, py3.stage, py3.release], ["py3", expected.stage, expected.release], what);
                assert.deepEqual(py3.servers.map((server) => server.name), SERVERS);
                for (const server of py3.servers) {
                    assert.deepEqual(server.live, expected.live, `${what}: ${server.name} live`);
                    assert.equal(server.upstreams.live, expected.liveUpstream, `${what}: ${server.name} live upstream`);
                    assert.equal(server.upstreams.passive, expected.passiveUpstream, `${what}: ${server.name} passive upstream`);
                }
                // Stricter than the plan: no resource outside py3 (its names, its colors) changes at all.
                const after = await evaluate(stack().config, stack().secrets);
                const d = diff(before, after);
                for (const name of [...d.added, ...d.removed, ...d.changed]) assert.match(name, /py3|red|black/, `${what} touched ${name}`);
                assert.ok(d.changed.length > 0, `${what} changed nothing`);
                before = after;
                return plan;
            };

            const prepared = { tags: { red: PY3_LIVE, black: PY3_NEW }, env: PY3_ENV, live: "red", passive: "black", canary: 0 };
            const onRed = { color: "red", tag: PY3_LIVE };
            await step(["prepare", PY3_NEW], { stage: "prepared", release: prepared, live: onRed, liveUpstream: "py3_red", passiveUpstream: "py3_black" });
            assert.equal(s.read(), PY3_PREPARED);
            const canary = await step(["canary", "0.5"], {
                stage: "prepared",
                release: { ...prepared, canary: 0.5 },
                live: onRed,
                liveUpstream: "py3_red, 0.5% to py3_black (sticky per client)",
                passiveUpstream: "py3_black",
            });
            assert.ok(canary.tracks![0].servers.every((server) => server.containers.find((c) => c.name === "portal-py3-black")?.protected === true));
            const steadyOn = (color: string) => ({ ...prepared, live: color, passive: color });
            await step(["deploy"], { stage: "steady", release: steadyOn("black"), live: { color: "black", tag: PY3_NEW }, liveUpstream: "py3_black", passiveUpstream: "py3_black" });
            await step(["rollback"], {
                stage: "steady",
                release: steadyOn("red"), // the plan shows tags, live, passive and canary; previous is checked in the file below
                live: onRed,
                liveUpstream: "py3_red",
                passiveUpstream: "py3_red",
            });
            assert.equal(s.read(), withLines(PY3_STEADY_BOTH, { "        canary: 0": `        canary: 0\n        previous: { color: black, tag: "${PY3_NEW}", by: rollback }` }));
            assert.equal(mainPart(s.read()), mainPart(TRACKS));
        });
    });
});
