// `split <track> <percent>`: the release helper's verb for the edge split. It edits
// portal:edge.split alone (one scalar, or one added line), the program then changes only
// the edge route, `status` shows the split, and every refusal leaves the file as it was.

import assert from "node:assert/strict";
import { validateConfig } from "../../lib/config/config";
import { portalRawConfig } from "../../lib/release/stackFileEdit";
import { diff } from "../../offline/diff";
import { evaluate } from "../../offline/evaluate";
import { readStackFile } from "../../offline/plan";
import { STEADY, withLines, stackDirsForSuite } from "./fixtures";

const TRACK_LINES = [
    "  portal:tracks:",
    "    - name: py3",
    "      colors: [red, black]",
    "      release: { tags: { red: \"py3-2020.08.01-1\" }, live: red }",
    "      hostPorts: { red: 8011, black: 8012 }",
    "      site: { address: 0.0.0.0, live: 8180, passive: 8181 }",
    "    - name: py2",
    "      colors: [cyan, pink]",
    "      retired: true",
    "      release: { tags: { cyan: \"py2-2019.12.01-1\" }, live: cyan }",
    "      hostPorts: { cyan: 8021, pink: 8022 }",
    "      site: { address: 0.0.0.0, live: 8280, passive: 8281 }",
];
const EDGE_LINES = ["  portal:edge:", "    hosts: [{ name: lb1, host: 10.0.1.5 }, { name: lb2, host: 10.0.1.6 }]", "    listen: { port: 80 }"];
const SPLIT_LINES = ["    split:", "      track: py3", "      percent: 0.5 # start small"];

const WITH_SITE = withLines(STEADY, { "      cookie: portal_client": "      cookie: portal_client\n    site: { address: 0.0.0.0, live: 8080, passive: 8081 }" });
/** Tracks and an edge without a split yet. */
const NO_SPLIT = WITH_SITE + [...TRACK_LINES, ...EDGE_LINES].join("\n") + "\n";
/** The same with 0.5% to py3. */
const HALF_PERCENT = WITH_SITE + [...TRACK_LINES, ...EDGE_LINES, ...SPLIT_LINES].join("\n") + "\n";

describe("release helper: split <track> <percent>", function () {
    this.timeout(60000);
    const stackWith = stackDirsForSuite();

    it("fixtures are valid configs", () => {
        assert.equal(validateConfig(portalRawConfig(NO_SPLIT)).edge?.split, undefined);
        assert.deepEqual(validateConfig(portalRawConfig(HALF_PERCENT)).edge?.split, { track: "py3", percent: 0.5 });
    });

    it("changes the percentage in place (comment kept), and the program changes only the edge routes", async () => {
        const s = stackWith(HALF_PERCENT);
        const r = s.release(["split", "py3", "5"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(s.read(), withLines(HALF_PERCENT, { "      percent: 0.5 # start small": "      percent: 5 # start small" }));
        assert.equal(
            r.stdout,
            [
                "split py3 5 on stack production (Pulumi.production.yaml)",
                "  portal:edge.split.percent  0.5 → 5",
                "edge (lb1, lb2): 5% of the edge's traffic to py3, 95% to main",
                "wrote Pulumi.production.yaml. Next:",
                "  pulumi preview -s production",
                "  pulumi up -s production",
                "then legal: split <track> <percent>",
                "",
            ].join("\n"),
        );
        const before = readStackFile(stackWith(HALF_PERCENT).file);
        const after = readStackFile(s.file);
        const d = diff(await evaluate(before.config, before.secrets), await evaluate(after.config, after.secrets));
        assert.deepEqual(d, { added: [], removed: [], changed: ["lb1-edge-route", "lb2-edge-route"] });
    });

    it("adds the split as one line when there is none", () => {
        const s = stackWith(NO_SPLIT);
        const r = s.release(["split", "py3", "100"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(s.read(), withLines(NO_SPLIT, { "    listen: { port: 80 }": "    listen: { port: 80 }\n    split: { track: py3, percent: 100 }" }));
        assert.match(r.stdout, /\n {2}portal:edge\.split {2}\(unset\) → \{ track: py3, percent: 100 \}\n/);
        assert.deepEqual(validateConfig(portalRawConfig(s.read())).edge?.split, { track: "py3", percent: 100 });
    });

    it("split py3 0 sends everything back to main; the same split again changes nothing", () => {
        const s = stackWith(HALF_PERCENT);
        const r = s.release(["split", "py3", "0"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /\nedge \(lb1, lb2\): all edge traffic to main \(0% to py3\)\n/);
        const same = s.release(["split", "py3", "0"]);
        assert.equal(same.code, 0);
        assert.equal(same.stdout, "split py3 0: nothing to change on stack production\nedge: all edge traffic to main (0% to py3)\n");
    });

    it("--dry-run writes nothing", () => {
        const s = stackWith(HALF_PERCENT);
        const r = s.release(["split", "py3", "20", "--dry-run"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^dry run: split py3 20 on stack production/);
        assert.equal(s.read(), HALF_PERCENT);
    });

    it("status shows the split after the tracks", () => {
        const out = stackWith(HALF_PERCENT).release(["status"]).stdout;
        assert.match(out, /\nstack production, track py2 \(retired\): steady\n[\s\S]*\nedge \(lb1, lb2\): 0\.5% of the edge's traffic to py3, 99\.5% to main\nlegal now: split <track> <percent>\n$/);
        assert.doesNotMatch(stackWith(STEADY).release(["status"]).stdout, /edge/);
        assert.match(stackWith(NO_SPLIT).release(["status"]).stdout, /\nedge \(lb1, lb2\): all edge traffic to main\n/);
    });

    describe("refusals: exit 1, the exact reason, file byte-identical", () => {
        const cases: [string, string, string[], string][] = [
            ["no edge", STEADY, ["split", "py3", "5"], "cannot split py3 5: the stack has no portal:edge, so there is no split to set\n"],
            ["the main track", HALF_PERCENT, ["split", "main", "5"], "cannot split main 5: the split names the track that gets the share; main gets the rest. To send everything to main: split py3 0\n"],
            ["an unknown track", HALF_PERCENT, ["split", "py9", "5"], 'cannot split py9 5: "py9" is not a track of this stack; allowed: py3\n'],
            ["a retired track", HALF_PERCENT, ["split", "py2", "5"], "cannot split py2 5: track py2 is retired; allowed: py3\n"],
            ["over 100", HALF_PERCENT, ["split", "py3", "101"], 'cannot split py3 101: "101" is not a percentage from 0 to 100 with at most two decimals\n'],
            ["three decimals", HALF_PERCENT, ["split", "py3", "0.125"], 'cannot split py3 0.125: "0.125" is not a percentage from 0 to 100 with at most two decimals\n'],
        ];
        for (const [name, text, argv, stderr] of cases) {
            it(name, () => {
                const s = stackWith(text);
                for (const args of [argv, [...argv, "--dry-run"]]) {
                    const r = s.release(args);
                    assert.equal(r.code, 1, r.stdout);
                    assert.equal(r.stderr, stderr);
                    assert.equal(r.stdout, "");
                    assert.equal(s.read(), text);
                }
            });
        }
    });
});
