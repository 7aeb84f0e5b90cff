// Editing the release block in the stack file's text: only the changed scalars (or one
// added line) differ, comments and quoting survive, and the config read back is the
// one the program would see.

import assert from "node:assert/strict";
import type { ReleaseChange } from "../../lib/release/releaseTransitions";
import { StackFileError, applyReleaseChanges, portalRawConfig } from "../../lib/release/stackFileEdit";
import { PINNED_ENV, PRODUCTION, STEADY, releaseBlock, withLines } from "./fixtures";

const change = (path: string[], before: string | number | undefined, after: string | number): ReleaseChange => ({ path, before, after });

/** A small stack file around a release block given as its lines (4-space indented). */
function stack(releaseLines: string[]): string {
    return ["# head", "config:", "  portal:image: registry.example.com/portal", "  portal:release:", ...releaseLines, "  portal:dir: /srv/portal # tail", ""].join("\n");
}

describe("stack file edit", () => {
    it("replaces only the changed scalars of the production file", () => {
        const edited = applyReleaseChanges(STEADY, [change(["tags", "green"], "2020.08.07-1", "2020.08.08-1"), change(["passive"], "blue", "green")]);
        assert.equal(
            edited,
            withLines(STEADY, { '      green: "2020.08.07-1"': '      green: "2020.08.08-1"', "    passive: blue": "    passive: green" }),
        );
    });

    it("keeps comments, including one on the edited line", () => {
        const text = stack(["    # which color serves", "    tags: # per color", '      blue: "1.0" # first', '      green: "0.9"', "    live: blue # live now", "    passive: blue", "    canary: 0 # percent"]);
        const edited = applyReleaseChanges(text, [change(["live"], "blue", "green"), change(["canary"], 0, 12.5)]);
        assert.equal(edited, withLines(text, { "    live: blue # live now": "    live: green # live now", "    canary: 0 # percent": "    canary: 12.5 # percent" }));
    });

    it("writes tags as quoted strings, keeping single quotes, so 2020.08 stays a string", () => {
        const text = stack(["    tags:", "      blue: '1.0'", "      green: v1", "    live: blue", "    passive: blue", "    canary: 0"]);
        const edited = applyReleaseChanges(text, [change(["tags", "blue"], "1.0", "2020.08"), change(["tags", "green"], "v1", "2020.09")]);
        assert.equal(edited, withLines(text, { "      blue: '1.0'": "      blue: '2020.08'", "      green: v1": '      green: "2020.09"' }));
        assert.deepEqual((releaseBlock(edited) as { tags: unknown }).tags, { blue: "2020.08", green: "2020.09" });
    });

    it("keeps the quoting style of colors", () => {
        const text = stack(["    tags: {blue: '1', green: '2'}", '    live: "blue"', "    passive: 'blue'"]);
        const edited = applyReleaseChanges(text, [change(["live"], "blue", "green"), change(["passive"], "blue", "green")]);
        assert.equal(edited, withLines(text, { '    live: "blue"': '    live: "green"', "    passive: 'blue'": "    passive: 'green'" }));
    });

    it("adds a missing tag, passive or canary as one line among its siblings", () => {
        const text = stack(["    live: blue", "    tags:", '      blue: "1.0" # only blue']);
        const edited = applyReleaseChanges(text, [change(["tags", "green"], undefined, "1.1"), change(["passive"], "blue", "green"), change(["canary"], 0, 5)]);
        assert.equal(edited, stack(["    live: blue", "    tags:", '      blue: "1.0" # only blue', '      green: "1.1"', "    passive: green", "    canary: 5"]));
        assert.deepEqual(releaseBlock(edited), { live: "blue", tags: { blue: "1.0", green: "1.1" }, passive: "green", canary: 5 });
    });

    it("adds a missing tag to a flow mapping", () => {
        const text = stack(['    tags: {blue: "1.0"}', "    live: blue", "    passive: blue"]);
        const edited = applyReleaseChanges(text, [change(["tags", "green"], undefined, "1.1"), change(["passive"], "blue", "green")]);
        assert.equal(edited, stack(['    tags: {blue: "1.0", green: "1.1"}', "    live: blue", "    passive: green"]));
    });

    it("keeps CRLF line ends", () => {
        const text = stack(["    tags:", '      blue: "1.0"', "    live: blue"]).replace(/\n/g, "\r\n");
        const edited = applyReleaseChanges(text, [change(["tags", "green"], undefined, "1.1"), change(["passive"], "blue", "green")]);
        assert.equal(edited, stack(["    tags:", '      blue: "1.0"', '      green: "1.1"', "    live: blue", "    passive: green"]).replace(/\n/g, "\r\n"));
    });

    it("refuses to edit a value it cannot replace in place (an alias)", () => {
        const text = ["colors:", "  main: &main blue", "config:", "  portal:release:", '    tags: {blue: "1", green: "2"}', "    live: *main", "    passive: blue", ""].join("\n");
        assert.throws(() => applyReleaseChanges(text, [change(["live"], "blue", "green")]), StackFileError);
    });

    it("refuses a file that is not valid YAML", () => {
        assert.throws(() => applyReleaseChanges("config: [\n", [change(["live"], "blue", "green")]), /not valid YAML/);
    });

    it("reads the portal config without prefix or other namespaces, encrypted values as a placeholder", () => {
        const text = PRODUCTION + "  portal:slackWebhook:\n    secure: v1:abc\n  aws:region: eu-west-1\n";
        const raw = portalRawConfig(text);
        assert.deepEqual(Object.keys(raw), ["image", "release", "servers", "ssh", "app", "workers", "nginx", "dir", "slackWebhook"]);
        assert.match(String(raw.slackWebhook), /^\(secret [0-9a-f]{12}: not decrypted offline\)$/);
        assert.deepEqual(raw.release, { tags: { blue: "2020.08.06-1", green: "2020.08.07-1" }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "green", canary: 0 });
    });
});
