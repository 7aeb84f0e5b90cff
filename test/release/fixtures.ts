// Stack files for the release helper tests: the repository's production stack file
// (prepared: live blue, passive green), a steady variant derived from it by one line,
// temp directories holding them, and line-exact expectations for edited files.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { runRelease, type ReleaseResult } from "../../bin/release";

const REPO = path.resolve(__dirname, "..", "..");

/** Pulumi.production.yaml as committed: prepared, live blue 2020.08.06-1, passive green 2020.08.07-1, canary 0. */
export const PRODUCTION = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8");

/**
 * `text` with whole lines replaced; each old line must occur exactly once, so the
 * result is the original byte for byte except the named lines.
 */
export function withLines(text: string, replacements: Record<string, string>): string {
    const lines = text.split("\n");
    for (const [oldLine, newLine] of Object.entries(replacements)) {
        const at = lines.flatMap((line, i) => (line === oldLine ? [i] : []));
        assert.equal(at.length, 1, `expected exactly one line ${JSON.stringify(oldLine)}`);
        lines[at[0]] = newLine;
    }
    return lines.join("\n");
}

/** The production file in steady state on blue (green keeps its tag): passive green -> blue. */
export const STEADY = withLines(PRODUCTION, { "    passive: green": "    passive: blue" });

/** The env both colors of the production file are pinned to (its release.env, equal to its app.env). */
export const PINNED_ENV = { blue: { DJANGO_SETTINGS_MODULE: "portal.settings.production" }, green: { DJANGO_SETTINGS_MODULE: "portal.settings.production" } };

export const LIVE_TAG = "2020.08.06-1";
export const GREEN_TAG = "2020.08.07-1";
export const NEW_TAG = "2020.08.08-1";

export interface StackDir {
    dir: string;
    file: string;
    read(): string;
    /** Replaces the file's text (an operator's own edit, e.g. pulumi config set). */
    write(text: string): void;
    release(argv: string[]): ReleaseResult;
    remove(): void;
}

/** A temp directory holding Pulumi.<stack>.yaml with `text`; `release` runs the helper there for that stack. */
export function stackDir(text: string, stack = "production"): StackDir {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-release-"));
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(file, text);
    return {
        dir,
        file,
        read: () => fs.readFileSync(file, "utf8"),
        write: (next) => fs.writeFileSync(file, next),
        release: (argv) => runRelease([...argv, "--stack", stack], dir),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

/** For the enclosing mocha describe: `stackWith(text)` makes a stack dir removed after each test. */
export function stackDirsForSuite(): (text: string) => StackDir {
    const dirs: StackDir[] = [];
    afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
    return (text) => {
        const s = stackDir(text);
        dirs.push(s);
        return s;
    };
}

/** The `portal:release` block of a stack file's text, as plain data. */
export function releaseBlock(text: string): unknown {
    return (parse(text) as { config: Record<string, unknown> }).config["portal:release"];
}
