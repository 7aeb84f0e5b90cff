// The route-state format has one renderer (lib/nginx/stateRoutes.ts), one grammar and one parser:
// switch-state.sh assembles its check from the same three parts as STATE_GRAMMAR (compared
// here as text, evaluated by bash), every shape the renderers produce is in it, and both
// the script and parseRouteState refuse what is not.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { STATE_GRAMMAR, parseRouteState, renderLiveState, renderPassiveState } from "../../lib/nginx/stateRoutes";
import { makeTempDir, removeTempDir, run, runScript, SCRIPTS_DIR } from "../../harness/run";

/** The script's own `name=`, `canary=` and `grammar=` lines, evaluated by bash. */
async function scriptGrammar(): Promise<string> {
    const text = fs.readFileSync(path.join(SCRIPTS_DIR, "switch-state.sh"), "utf8");
    const lines = ["name", "canary", "grammar"].map((v) => {
        const m = new RegExp(`^ *(${v}=.*)$`, "m").exec(text);
        assert.ok(m, `switch-state.sh has no ${v}= line`);
        return m[1];
    });
    const r = await run("bash", ["-c", `${lines.join("\n")}\nprintf '%s' "$grammar"`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
}

const RENDERED = [
    renderLiveState({ color: "blue" }),
    renderPassiveState({ color: "green" }),
    renderLiveState({ color: "blue", canary: { color: "green", percent: 0.01, mode: "request", cookie: "portal_client" } }),
    renderLiveState({ color: "blue", canary: { color: "green", percent: 99.99, mode: "sticky", cookie: "portal_client", salt: "0123456789abcdef" } }),
    renderLiveState({ color: "red", canary: { color: "black", percent: 5, mode: "sticky", cookie: "Sess_1" } }, "py3"),
    renderLiveState({ color: "main", canary: { color: "py3", percent: 50, mode: "request", cookie: "portal_client" } }, "edge"),
];

const REFUSED = [
    '{"upstream": "portal_blue"}\n', // a space
    '{"upstream":"portal_blue","extra":1}\n',
    '{"upstream":"portal_blue","canary":{"upstream":"portal_green","basisPoints":500,"sticky":true}}\n', // no cookie
    '{"upstream":"portal_blue"}\n{"upstream":"portal_green"}\n', // two lines
    '{"upstream":"Portal_blue"}\n',
];

describe("the route-state grammar: one source for the renderer, switch-state.sh and the parser", () => {
    let dir = "";
    before(() => (dir = makeTempDir("grammar")));
    after(() => removeTempDir(dir));

    it("switch-state.sh builds exactly STATE_GRAMMAR", async () => {
        assert.equal(await scriptGrammar(), STATE_GRAMMAR);
    });

    it("every shape the renderers produce is in the grammar, is published by the script and parses back", async () => {
        for (const content of RENDERED) {
            assert.match(content.trimEnd(), new RegExp(STATE_GRAMMAR));
            assert.deepEqual(parseRouteState(content), JSON.parse(content));
            const r = await runScript("switch-state.sh", [path.join(dir, "live.state")], { input: content });
            assert.equal(r.code, 0, `${content}: ${r.stderr}`);
            assert.equal(fs.readFileSync(path.join(dir, "live.state"), "utf8"), content);
        }
    });

    it("what is not in it is refused by both, and the published file stays as it was", async () => {
        const before = fs.readFileSync(path.join(dir, "live.state"), "utf8");
        for (const content of REFUSED) {
            assert.throws(() => parseRouteState(content), /not a routing state/, content);
            const r = await runScript("switch-state.sh", [path.join(dir, "live.state")], { input: content });
            assert.equal(r.code, 1, content);
            assert.match(r.stderr, /refusing .*not one routing-state JSON object on one line/);
        }
        assert.equal(fs.readFileSync(path.join(dir, "live.state"), "utf8"), before);
    });
});
