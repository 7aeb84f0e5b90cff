import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { ShellCommand, quote } from "../../lib/server/shell";

describe("shell quoting", () => {
    it("keeps plain words readable and single-quotes the rest", () => {
        assert.equal(quote("/srv/portal/scripts/x.sh"), "/srv/portal/scripts/x.sh");
        assert.equal(quote("sudo nginx -t"), "'sudo nginx -t'");
        assert.equal(quote("it's"), "'it'\\''s'");
        assert.equal(quote(""), "''");
    });

    it("round-trips hostile words through a real shell unchanged", () => {
        const words = ["a b", "$(touch /tmp/pwned)", "`id`", "x;y", "it's", "\"q\"", "*", "~", "a\\b", "--flag=$HOME", "", "tab\tin"];
        const line = new ShellCommand(["printf", "%s\\0", ...words]).toString();
        const out = execFileSync("bash", ["-c", line]).toString();
        assert.deepEqual(out.split("\0").slice(0, -1), words);
    });

    it("refuses NUL and an empty argv", () => {
        assert.throws(() => quote("a\0b"), /NUL/);
        assert.throws(() => new ShellCommand([]), /at least a program/);
    });
});
