// Command-line conventions shared by bin/plan.ts and bin/release.ts: `--flag value` and
// `--flag=value` alike, short aliases (`-s` as in the Pulumi CLI), a flag given twice
// refused, "did you mean" for a mistyped flag, verb or stack, paths relative to the
// caller's directory, and a closed stdout (`| head`) ending quietly.

import * as fs from "node:fs";
import * as path from "node:path";

export class UsageError extends Error {}

export interface FlagSpec {
    name: string;
    short?: string;
    /** Takes a value (`--stack production`); otherwise a switch (`--json`). */
    value: boolean;
}

export interface ParsedArgs {
    flags: Map<string, string | true>;
    words: string[];
    help: boolean;
}

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
            diagonal = above;
        }
    }
    return row[b.length];
}

/** The closest candidate within two edits (or a unique prefix match), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    const prefixed = candidates.filter((c) => c.startsWith(word) && word.length > 0);
    if (prefixed.length === 1) return prefixed[0];
    let best: string | undefined;
    let bestDistance = 3;
    for (const c of candidates) {
        const d = distance(word.toLowerCase(), c.toLowerCase());
        if (d < bestDistance) [best, bestDistance] = [c, d];
    }
    return best;
}

export function didYouMean(word: string, candidates: readonly string[]): string {
    const guess = closest(word, candidates);
    return guess === undefined ? "" : `; did you mean ${guess}?`;
}

/** Splits argv into flags and words; `--help`, `-h` and a first word `help` ask for the usage. */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
    const flags = new Map<string, string | true>();
    const words: string[] = [];
    let help = false;
    const byName = new Map<string, FlagSpec>(specs.flatMap((s): [string, FlagSpec][] => [[`--${s.name}`, s], ...(s.short ? [[`-${s.short}`, s] as [string, FlagSpec]] : [])]));
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") continue;
        if (arg === "--help" || arg === "-h") {
            help = true;
            continue;
        }
        if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
            words.push(arg);
            continue;
        }
        const eq = arg.indexOf("=");
        const flag = eq === -1 ? arg : arg.slice(0, eq);
        const spec = byName.get(flag);
        if (spec === undefined) {
            throw new UsageError(`unknown option ${flag}${didYouMean(flag, [...byName.keys()].filter((k) => k.startsWith("--")))}`);
        }
        let value: string | true = true;
        if (spec.value) {
            value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
            if (value === undefined || value === "" || (eq === -1 && value.startsWith("-"))) {
                throw new UsageError(`--${spec.name} needs a value`);
            }
        } else if (eq !== -1) {
            throw new UsageError(`--${spec.name} takes no value (got ${arg})`);
        }
        const before = flags.get(spec.name);
        if (before !== undefined) {
            const both = spec.value ? ` (${before} and ${value})` : "";
            throw new UsageError(`--${spec.name} is given twice${both}; allowed: once`);
        }
        flags.set(spec.name, value);
    }
    if (words[0] === "help") {
        help = true;
        words.shift();
    }
    return { flags, words, help };
}

/** The stacks of a project directory: every Pulumi.<name>.yaml. */
export function stacksIn(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** Refuses a stack without a stack file, listing those that exist (and the likely one). */
export function checkStack(stack: string, dir: string): void {
    const stacks = stacksIn(dir);
    if (!stacks.includes(stack)) {
        throw new UsageError(`no stack ${stack}: no Pulumi.${stack}.yaml in ${dir}${didYouMean(stack, stacks)} (stacks: ${stacks.join(", ") || "none"})`);
    }
}

/**
 * Where a path the user typed is relative to: the shell's directory. npm runs scripts in
 * the project root and passes the caller's directory as INIT_CWD; it is read only when
 * npm runs this very script (`script`), not when some other npm script spawned us.
 */
export function callerPath(file: string, cwd: string, env: NodeJS.ProcessEnv, script: string): string {
    const base = env.npm_lifecycle_event === script && env.INIT_CWD ? env.INIT_CWD : cwd;
    return path.resolve(base, file);
}

/**
 * Writes a CLI result and sets the exit code. A reader that closed the pipe (`| head`)
 * ends the output quietly, as `cat` does, not with a stack trace.
 */
export function emit(result: { code: number; stdout: string; stderr: string }): void {
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") process.exit(result.code);
        throw e;
    });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
}
