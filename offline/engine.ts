// An offline model of the steps `pulumi preview` plans from the last state to the
// program's new registrations. The last state is the evaluation of an earlier stack file
// (what the last `up` left, if it succeeded); the new one the current file's. Each rule
// cites the engine or provider source it follows (pulumi/pulumi@v3.248.0
// pkg/resource/deploy/step_generator.go unless named otherwise); the providers' replace
// rules come from the table in providerRules.ts, read for every resource from its type,
// so new inputs and options of the components are modelled without changes here.

import { isDeepStrictEqual } from "node:util";
import type { DeclaredResource, Evaluation } from "./evaluate";
import { providerRules, type ProviderRules, type ResourceRule } from "./providerRules";

export type Op = "same" | "update" | "replace" | "create" | "delete";

/** A value the engine only knows after `up` (an output of a resource being created or replaced). */
export const UNKNOWN = "\u0000unknown-until-up";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface InputChange {
    key: string;
    old: unknown;
    new: unknown;
    /** The provider (or replaceOnChanges) replaces the resource for this input. */
    replaces: boolean;
    /** Shown as [secret]: a secret Output, or an input the provider marks secret. */
    secret: boolean;
    /** The input has no entry in the provider table: assumed to replace. */
    unmodelled?: boolean;
}

export interface Step {
    urn: string;
    name: string;
    type: string;
    op: Op;
    /** For a replace: the engine deletes the old resource first, or creates the new one first. */
    order?: "delete-first" | "create-first";
    changes: InputChange[];
    /** Inputs that differ but are ignored (`ignoreChanges`): the engine keeps the old value. */
    ignored: string[];
    protect: { old?: boolean; new?: boolean };
    note?: string;
}

export interface EnginePreview {
    steps: Step[];
    /** What the engine would print as errors and refuse (the preview exits non-zero). */
    errors: string[];
    warnings: string[];
    counts: Record<Exclude<Op, "same">, number> & { unchanged: number };
    summary: string;
    versions: Record<string, string>;
    cannotKnow: string[];
    /** Per color whose containers' env changes: the names added, changed and removed (never a value). */
    env: ColorEnvChange[];
}

export interface ColorEnvChange {
    color: string;
    /** "+ NAME", "~ NAME", "- NAME" */
    changes: string[];
    /** The env holds secrets: the preview shows it only as [secret]. */
    secret: boolean;
}

/** What this model does not see; printed with every preview. */
export const CANNOT_KNOW = [
    "the servers' real state: the old state here is the earlier stack file's evaluation, i.e. what a successful `up` of it left; drift and what `pulumi refresh` would read are not seen",
    "values only the engine and providers compute (container and image ids, pulled image digests, command output): shown as [unknown until up] when the resource producing them is created or replaced",
    "whether an encrypted value changed: offline each is a digest of its ciphertext, so a secret set again to the same value shows as changed (the engine compares the decrypted values)",
    "changes to scripts/ since the last `up`: both sides upload this working tree's scripts/ (compared by content hash)",
    "how a changed docker provider (host, ssh options) reaches the servers: the preview models its config diff (an update), not whether the new address answers",
    "whether a step succeeds: pulls, migrations, health waits and nginx tests run only at `up`",
];

function isSecretEnvelope(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && SECRET_SIG in v;
}

function mapStrings(value: unknown, f: (s: string) => unknown): unknown {
    if (typeof value === "string") return f(value);
    if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
    return value;
}

const isComponent = (r: DeclaredResource) => r.type.startsWith("portal:index:");
/** Read by the engine on every run (a StackReference), never created or replaced by a diff. */
const isRead = (r: DeclaredResource) => r.type === "pulumi:pulumi:StackReference";

/**
 * The computed outputs of each resource (id, and state keys that are not inputs: imageId,
 * stdout) as symbols `⟨urn.key⟩`, so an input built from another resource's output compares
 * by where it comes from, not by the mock's value.
 */
function outputTokens(e: Evaluation): [string, string][] {
    const tokens: [string, string][] = [];
    for (const r of e.resources.values()) {
        if (isComponent(r)) continue;
        if (r.id) tokens.push([r.id, `⟨${r.urn}.id⟩`]);
        for (const [key, value] of Object.entries(r.outputs)) {
            if (key in r.inputs || typeof value !== "string" || value.trim().length < 8) continue;
            tokens.push([value, `⟨${r.urn}.${key}⟩`]);
            if (value.trim() !== value) tokens.push([value.trim(), `⟨${r.urn}.${key}⟩`]);
        }
    }
    return tokens.sort((a, b) => b[0].length - a[0].length);
}

function symbolic(e: Evaluation): Map<string, Record<string, unknown>> {
    const tokens = outputTokens(e);
    const result = new Map<string, Record<string, unknown>>();
    for (const r of e.resources.values()) {
        const inputs = mapStrings(r.inputs, (s) => tokens.reduce((text, [value, symbol]) => (text.includes(value) ? text.split(value).join(symbol) : text), s));
        result.set(r.urn, inputs as Record<string, unknown>);
    }
    return result;
}

/** Replaces every value derived from an output of `pending` (being created or replaced) by UNKNOWN; returns which. */
function withUnknowns(inputs: Record<string, unknown>, pending: Set<string>): { inputs: Record<string, unknown>; from: Map<string, Set<string>> } {
    const from = new Map<string, Set<string>>();
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(inputs)) {
        out[key] = mapStrings(value, (s) => {
            const sources = [...s.matchAll(/⟨(.+?)\.[A-Za-z]+⟩/g)].map((m) => m[1]).filter((u) => pending.has(u));
            if (sources.length === 0) return s;
            if (!from.has(key)) from.set(key, new Set());
            sources.forEach((u) => from.get(key)!.add(u));
            return UNKNOWN;
        });
    }
    return { inputs: out, from };
}

/** `ignoreChanges` paths (top-level or dotted) take the old value (step_generator.go:1154 processIgnoreChanges). */
function applyIgnoreChanges(news: Record<string, unknown>, olds: Record<string, unknown>, paths: string[]): Record<string, unknown> {
    const result = structuredClone(news);
    for (const p of paths) {
        const parts = p.split(".");
        let n: any = result;
        let o: any = olds;
        for (const part of parts.slice(0, -1)) {
            n = n?.[part];
            o = o?.[part];
        }
        const last = parts[parts.length - 1];
        if (n && typeof n === "object") {
            if (o && typeof o === "object" && last in o) n[last] = o[last];
            else delete n[last];
        }
    }
    return result;
}

function equal(a: unknown, b: unknown): boolean {
    return isDeepStrictEqual(a, b);
}

function ruleFor(rules: ProviderRules, type: string): ResourceRule | undefined {
    return rules.rules[type];
}

/** Inputs a provider stores as secrets (`provider:"secret"`: pulumi-command@v1.2.1 remote/command.go, remote/copy.go). */
const PROVIDER_SECRETS: Record<string, string[]> = {
    "command:remote:Command": ["connection"],
    "command:remote:CopyToRemote": ["connection"],
};

const protectedReplace = (urn: string) =>
    // step_generator.go:1837-1841
    `unable to replace resource "${urn}"\nas it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``;

const protectedDependentReplace = (dependent: string, urn: string) =>
    // step_generator.go:1990-1995 (a protected dependent of a delete-before-replace)
    `unable to replace resource "${dependent}" as part of replacing "${urn}" as it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect '${dependent}'\``;

const protectedDelete = (urn: string) =>
    // step.go:588-593 deleteProtectedError, checked in DeleteStep.Apply before the preview returns
    `resource "${urn}" cannot be deleted\nbecause it is protected. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect '${urn}'\``;

const duplicateUrn = (urn: string) =>
    // sdk/go/common/diag/errors.go:32 GetDuplicateResourceURNError, raised by step_generator.go:263 generateURN
    `Duplicate resource URN '${urn}'; try giving it a unique name`;

/** Plans the steps from `before` (the last state) to `after` (the program's registrations). */
export function previewSteps(before: Evaluation, after: Evaluation, rules: ProviderRules = providerRules()): EnginePreview {
    const errors: string[] = [];
    const warnings: string[] = [];
    for (const urn of new Set(after.duplicateUrns)) errors.push(duplicateUrn(urn));
    const olds = symbolic(before);
    const news = symbolic(after);
    /** Resources created or replaced: their outputs are unknown at preview. */
    const pending = new Set<string>();
    /** Replaced delete-first: a protected dependent replaced because of it is refused. */
    const deleteFirst = new Set<string>();
    const steps: Step[] = [];

    for (const r of after.resources.values()) {
        const old = before.resources.get(r.urn);
        const base = { urn: r.urn, name: r.name, type: r.type, ignored: [] as string[], protect: { old: old?.protect, new: r.protect } };
        const { inputs: goal, from } = withUnknowns(news.get(r.urn)!, pending);
        if (!old && isRead(r)) {
            steps.push({ ...base, op: "same", changes: [] });
            continue;
        }
        if (!old) {
            pending.add(r.urn);
            steps.push({ ...base, op: "create", changes: Object.entries(goal).map(([key, v]) => ({ key, old: undefined, new: v, replaces: false, secret: isSecretEnvelope(v) || (PROVIDER_SECRETS[r.type] ?? []).includes(key) })) });
            continue;
        }
        const oldInputs = olds.get(r.urn)!;
        const differs = (a: Record<string, unknown>, b: Record<string, unknown>) =>
            [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !equal(a[k], b[k]));
        const inputs = applyIgnoreChanges(goal, oldInputs, r.ignoreChanges);
        const ignored = differs(goal, oldInputs).filter((k) => !differs(inputs, oldInputs).includes(k));
        const keys = differs(inputs, oldInputs);
        if (isComponent(r) || isRead(r) || keys.length === 0) {
            // Components have no provider: same unless their (empty) inputs differ (step_generator.go:2736).
            steps.push({ ...base, op: "same", changes: [], ignored });
            continue;
        }
        const rule = ruleFor(rules, r.type);
        const secretKeys = PROVIDER_SECRETS[r.type] ?? [];
        const changes: InputChange[] = keys.map((key) => {
            // replaceOnChanges applies on top of the provider's diff (step_generator.go:1826 applyReplaceOnChanges).
            const byOption = r.replaceOnChanges.includes(key) || r.replaceOnChanges.includes("*");
            const known = rule === undefined || rule.replaceOn.includes(key) || rule.updateOn === "all others" || rule.updateOn.includes(key);
            const replaces = byOption || (rule !== undefined && (rule.replaceOn.includes(key) || !known));
            return { key, old: oldInputs[key], new: inputs[key], replaces, secret: isSecretEnvelope(inputs[key]) || isSecretEnvelope(oldInputs[key]) || secretKeys.includes(key), ...(known ? {} : { unmodelled: true }) };
        });
        if (rule === undefined) {
            errors.push(`the offline preview has no provider rules for ${r.type} (${r.name}); it cannot say whether this change updates or replaces it`);
        }
        const replace = changes.some((c) => c.replaces);
        if (!replace) {
            const note = r.type.startsWith("command:") && r.type.endsWith(":Command") ? (inputs.update !== undefined ? "runs its update command" : "runs create again") : rule?.updateNote;
            steps.push({ ...base, op: "update", changes, ignored, note });
            continue;
        }
        // The engine refuses to replace a resource protected in the old and the new state; protect true -> false in
        // the same update is allowed (step_generator.go:1834-1841).
        if (r.protect && old.protect) errors.push(protectedReplace(r.engineUrn));
        // A dependent replaced only because a delete-before-replace resource's outputs become unknown is deleted
        // early; if its old state is protected the engine bails (step_generator.go:1989-1996, old Protect only).
        const causes = changes.filter((c) => c.replaces).map((c) => from.get(c.key));
        if (old.protect && !(r.protect && old.protect) && causes.every((c) => c !== undefined)) {
            const cause = [...causes[0]!].find((u) => deleteFirst.has(u));
            if (cause) errors.push(protectedDependentReplace(r.engineUrn, before.resources.get(cause)?.engineUrn ?? cause));
        }
        // The resource option overrides the provider's choice (step_generator.go:1922-1925).
        const dbr = r.deleteBeforeReplace ?? rule?.deleteBeforeReplace ?? false;
        if (dbr) deleteFirst.add(r.urn);
        pending.add(r.urn);
        steps.push({ ...base, op: "replace", order: dbr ? "delete-first" : "create-first", changes, ignored });
    }
    for (const old of before.resources.values()) {
        if (after.resources.has(old.urn)) continue;
        // Deleted (GenerateDeletes); a protected one is refused even in preview (step.go:616).
        if (old.protect) errors.push(protectedDelete(old.engineUrn));
        steps.push({ urn: old.urn, name: old.name, type: old.type, op: "delete", changes: [], ignored: [], protect: { old: old.protect } });
    }
    for (const s of steps) {
        const gone = s.op === "delete" || s.op === "replace";
        const engineUrn = (after.resources.get(s.urn) ?? before.resources.get(s.urn))!.engineUrn;
        if (gone && s.protect.old && s.type === "docker:index/container:Container" && !errors.some((e) => e.includes(`"${engineUrn}"`))) {
            warnings.push(`${s.name} served live traffic in the last state (it was protected) and would be ${s.op === "delete" ? "deleted" : s.order === "delete-first" ? "deleted before its replacement exists" : "replaced"}; the live guard refuses such a change`);
        }
    }
    const count = (op: Op) => steps.filter((s) => s.op === op).length;
    // The CLI also counts the stack resource itself (pulumi:pulumi:Stack), unchanged here.
    const counts = { create: count("create"), update: count("update"), replace: count("replace"), delete: count("delete"), unchanged: count("same") + 1 };
    return { steps, errors, warnings, counts, summary: summaryLine(counts), versions: { pulumi: "3.248.0 (engine rules)", ...rules.versions }, cannotKnow: CANNOT_KNOW, env: envChanges(before, after) };
}

/** Like the CLI's "Resources:" block, on one line. */
export function summaryLine(c: EnginePreview["counts"]): string {
    const parts = [
        c.create ? `+ ${c.create} to create` : "",
        c.update ? `~ ${c.update} to update` : "",
        c.replace ? `+- ${c.replace} to replace` : "",
        c.delete ? `- ${c.delete} to delete` : "",
        `${c.unchanged} unchanged`,
    ];
    return parts.filter(Boolean).join(", ");
}

/**
 * The summary as the Pulumi CLI prints it after a preview (pulumi/pulumi@v3.248.0
 * pkg/backend/display/diff.go renderSummaryEvent: one line per kind in StepOps order with
 * deploy.RawPrefix, "N changes" only for two kinds or more, then "M unchanged").
 */
export function cliSummaryBlock(c: EnginePreview["counts"]): string[] {
    const kinds: [string, number][] = [["+ ", c.create], ["~ ", c.update], ["- ", c.delete], ["+-", c.replace]];
    const lines = ["Resources:", ...kinds.filter(([, n]) => n > 0).map(([prefix, n]) => `    ${prefix}${n} to ${{ "+ ": "create", "~ ": "update", "- ": "delete", "+-": "replace" }[prefix]}`)];
    const changed = kinds.filter(([, n]) => n > 0);
    const total = changed.reduce((sum, [, n]) => sum + n, 0);
    const pieces = [...(changed.length >= 2 ? [`${total} ${total === 1 ? "change" : "changes"}`] : []), ...(c.unchanged ? [`${c.unchanged} unchanged`] : [])];
    if (pieces.length) lines.push(`    ${pieces.join(". ")}`);
    return lines;
}

/** Each color's env as its (first server's) app container declares it: NAME -> value, and whether it is secret. */
function colorEnvs(e: Evaluation): Map<string, { env: Map<string, string>; secret: boolean }> {
    const colors = new Map<string, { env: Map<string, string>; secret: boolean }>();
    for (const r of e.resources.values()) {
        if (r.type !== "docker:index/container:Container" || !r.name.endsWith("-container")) continue;
        const color = ((r.inputs.labels ?? []) as { label: string; value: string }[]).find((l) => l.label === "portal.color")?.value;
        if (color === undefined || colors.has(color)) continue;
        const secret = isSecretEnvelope(r.inputs.envs);
        const lines = ((secret ? (r.inputs.envs as { value: unknown }).value : r.inputs.envs) ?? []) as string[];
        colors.set(color, { env: new Map(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])), secret });
    }
    return colors;
}

/** Which env names change per color between two evaluations (colors present on both sides). */
export function envChanges(before: Evaluation, after: Evaluation): ColorEnvChange[] {
    const olds = colorEnvs(before);
    const result: ColorEnvChange[] = [];
    for (const [color, now] of colorEnvs(after)) {
        const old = olds.get(color);
        if (old === undefined) continue;
        const changes = [
            ...[...now.env.keys()].filter((k) => !old.env.has(k)).map((k) => `+ ${k}`),
            ...[...now.env.keys()].filter((k) => old.env.has(k) && old.env.get(k) !== now.env.get(k)).map((k) => `~ ${k}`),
            ...[...old.env.keys()].filter((k) => !now.env.has(k)).map((k) => `- ${k}`),
        ];
        if (changes.length > 0) result.push({ color, changes, secret: now.secret || old.secret });
    }
    return result;
}

/** The preview as plain data for --json: secrets masked, unknowns and output references in words. */
export function previewForJson(p: EnginePreview): unknown {
    const word = (v: unknown): unknown =>
        isSecretEnvelope(v)
            ? "[secret]"
            : v === UNKNOWN
              ? "[unknown until up]"
              : typeof v === "string"
                ? v.replace(/⟨urn:[^⟩]*::([^⟩.]+)\.([A-Za-z]+)⟩/g, "<$2 of $1>")
                : Array.isArray(v)
                  ? v.map(word)
                  : v && typeof v === "object"
                    ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, word(x)]))
                    : v;
    const steps = p.steps.map((s) => ({
        ...s,
        changes: s.changes.map((c) => (c.secret ? { ...c, old: c.old === undefined ? undefined : "[secret]", new: c.new === UNKNOWN ? "[unknown until up]" : "[secret]" } : { ...c, old: word(c.old), new: word(c.new) })),
    }));
    return { ...p, steps };
}

const MARK: Record<Op, string> = { same: "=", update: "~", replace: "+-", create: "+", delete: "-" };

/** A short, readable form of a value: symbols by resource name, secrets and unknowns marked. */
function show(value: unknown, secret: boolean): string {
    if (value === undefined) return "(unset)";
    if (secret) return "[secret]";
    if (value === UNKNOWN) return "[unknown until up]";
    const text = JSON.stringify(value, (_, v) => (isSecretEnvelope(v) ? "[secret]" : v === UNKNOWN ? "[unknown until up]" : v));
    return text.replace(/⟨urn:[^⟩]*::([^⟩.]+)\.([A-Za-z]+)⟩/g, "<$2 of $1>");
}

const LONG = 72;

/** One input's old -> new, long text as a short line diff. */
function changeLines(c: InputChange): string[] {
    const why = c.replaces ? (c.unmodelled ? "  (not in the provider table: assumed to replace)" : "  (forces replacement)") : "";
    const a = show(c.old, c.secret);
    const b = show(c.new, c.secret);
    if (a.length + b.length <= LONG && !a.includes("\\n") && !b.includes("\\n")) return [`${c.key}: ${a} -> ${b}${why}`];
    const split = (v: unknown, s: string): string[] =>
        typeof v === "string" && !c.secret && v !== UNKNOWN ? v.split("\n").map((l) => show(l, false)) : Array.isArray(v) && !c.secret ? v.map((e) => show(e, false)) : [s];
    const oldLines = split(c.old, a);
    const newLines = split(c.new, b);
    const removed = oldLines.filter((l) => !newLines.includes(l));
    const added = newLines.filter((l) => !oldLines.includes(l));
    const cap = (all: string[], mark: string) => {
        // A line repeated (one env line in each compose service) is shown once with its count.
        const ls = [...new Set(all)].map((l) => { const n = all.filter((x) => x === l).length; return n > 1 ? `${l}  (${n} lines)` : l; });
        return [...ls.slice(0, 4).map((l) => `    ${mark} ${l.length > 110 ? l.slice(0, 107) + "..." : l}`), ...(ls.length > 4 ? [`    ${mark} … ${ls.length - 4} more`] : [])];
    };
    return [`${c.key}:${why}`, ...cap(removed, "-"), ...cap(added, "+")];
}

/** The preview as text: one block per step that does something, then errors, warnings, the summary; `brief`: without the inputs. */
export function renderPreview(p: EnginePreview, brief = false): string[] {
    const lines: string[] = [];
    for (const s of p.steps) {
        const flip = s.protect.old !== undefined && s.protect.new !== undefined && s.protect.old !== s.protect.new ? `protect: ${s.protect.old} -> ${s.protect.new}` : "";
        if (s.op === "same") {
            if (flip) lines.push(`  = ${s.name}  (${flip}; recorded in the state, nothing runs)`);
            continue;
        }
        const how = s.op === "replace" ? `replace, ${s.order === "delete-first" ? "delete first" : "create first"}` : s.op;
        const extra = [flip, s.note ?? "", s.ignored.length ? `ignoreChanges keeps ${s.ignored.join(", ")}` : ""].filter(Boolean);
        lines.push(`  ${MARK[s.op]} ${s.name}  ${how}${extra.length ? ` (${extra.join("; ")})` : ""}`);
        if (!brief && (s.op === "update" || s.op === "replace")) for (const c of s.changes) for (const l of changeLines(c)) lines.push(`      ${l}`);
    }
    if (lines.length === 0) lines.push("  no changes");
    if (p.env.length > 0) {
        lines.push("env changes per color (names only):");
        for (const e of p.env) lines.push(`  ${e.color}: ${e.changes.join(", ")}${e.secret ? "  (holds secrets: values masked)" : ""}`);
    }
    lines.push(`Resources: ${p.summary}`);
    for (const w of p.warnings) lines.push(`warning: ${w}`);
    for (const e of p.errors) lines.push(...`error: ${e}`.split("\n"));
    return lines;
}
