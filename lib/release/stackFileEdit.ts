// Reads a Pulumi.<stack>.yaml text and edits the values of one release block in place:
// the main track's `portal:release` or a track's `portal:tracks[i].release`. Each changed
// scalar is replaced in the source text at the range the `yaml` Document reports for it
// (a missing key is added as one line among its siblings, in a block or flow mapping), so
// comments, key order, quoting and every other byte survive. The result is then checked
// against the same edit made with the Document API (setIn): both must mean the same YAML.

import { isDeepStrictEqual } from "node:util";
import { isMap, isNode, isScalar, parseDocument, type Document, type Scalar, type YAMLMap } from "yaml";
import type { RawConfig } from "../config/config";
import { readRawConfig } from "../config/rawConfig";
import { stackValues, type SecretStorage, type StackValues } from "../config/secretConfig";
import type { ChangeValue, ReleaseChange } from "./releaseTransitions";

/** Where a release block sits below `config:`: `["portal:release"]` or `["portal:tracks", i, "release"]`. */
export type ReleaseBlockPath = readonly (string | number)[];

/** The main track's release block. */
export const MAIN_RELEASE: ReleaseBlockPath = ["portal:release"];

/** The release block of the `index`th entry of `portal:tracks`. */
export function trackRelease(index: number): ReleaseBlockPath {
    return ["portal:tracks", index, "release"];
}

/** The document path of a release block. */
function documentPath(block: ReleaseBlockPath): (string | number)[] {
    return ["config", ...block];
}

/** The stack file cannot be read or edited safely; the message says why. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

/**
 * The full config key of a path below a release block, as validation errors name it:
 * `portal:release.tags.green`, `portal:tracks[0].release.tags.black`.
 */
export function releaseKey(path: readonly string[], block: ReleaseBlockPath = MAIN_RELEASE): string {
    return [...block, ...path].reduce<string>((key, part) => (typeof part === "number" ? `${key}[${part}]` : key === "" ? part : `${key}.${part}`), "");
}

function parseStackText(text: string, fileName?: string): Document {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) {
        throw new StackFileError(`${fileName ?? "the stack file"} is not valid YAML: ${doc.errors.map((e) => e.message).join("\n")}`);
    }
    return doc;
}

/** A stack file's `config:` map read as the engine reads it (encrypted values as placeholders). */
export function readStackText(text: string, fileName?: string): StackValues {
    const doc = parseStackText(text, fileName).toJS() as { config?: unknown } | null;
    const config = doc?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new StackFileError(`${fileName ?? "the stack file"}: config is not a mapping of keys`);
    }
    return stackValues(config as Record<string, unknown>);
}

/** The `portal:` part of a stack file's values: raw config for validation and the secret storage. */
export function portalStackConfig(text: string, fileName?: string, stack?: string): { raw: RawConfig; storage: SecretStorage } {
    const { values, encrypted } = readStackText(text, fileName);
    const flat: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) flat[key] = typeof value === "string" ? value : JSON.stringify(value);
    const below = encrypted.filter((e) => e.startsWith(NAMESPACE)).map((e) => e.slice(NAMESPACE.length));
    return { raw: readRawConfig(flat), storage: { encrypted: below, stack } };
}

const NAMESPACE = "portal:";

/**
 * The `portal:` config as the program sees it (keys without the prefix, encrypted values
 * as placeholders): each value goes through the same text form Pulumi hands the program.
 */
export function portalRawConfig(text: string): RawConfig {
    return portalStackConfig(text).raw;
}

interface TextEdit {
    start: number;
    end: number;
    text: string;
    /** Depth of the edited key (tags.green: 2). */
    depth: number;
}

function quoted(value: string, node: Scalar | undefined): string {
    return node?.type === "QUOTE_SINGLE" ? `'${value}'` : JSON.stringify(value);
}

/**
 * Keys whose values are always written quoted: tags (2020.08 must stay a string), pull
 * stamps, env values (any text) and ciphertexts (`secure:`).
 */
export function isQuotedKey(path: readonly string[]): boolean {
    return ["tags", "pulled", "env"].includes(path[0]) || ["tag", "secure"].includes(path[path.length - 1]);
}

function scalarText(value: string | number, path: readonly string[], node: Scalar | undefined): string {
    if (typeof value === "number") {
        return String(value);
    }
    const wasQuoted = node?.type === "QUOTE_SINGLE" || node?.type === "QUOTE_DOUBLE";
    return isQuotedKey(path) || wasQuoted ? quoted(value, node) : value;
}

/**
 * Tags are always quoted; other values keep their node's style. A new mapping (a key that
 * was absent, e.g. `previous`) is written as one flow mapping: `{ color: blue, tag: "1.0", by: deploy }`.
 */
function renderValue(change: ReleaseChange, node: Scalar | undefined): string {
    return renderAt(change.after, change.path, node);
}

function renderAt(value: ChangeValue, path: readonly string[], node: Scalar | undefined): string {
    if (typeof value === "object") {
        const fields = Object.entries(value).map(([key, v]) => `${key}: ${renderAt(v, [...path, key], undefined)}`);
        return fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`;
    }
    return scalarText(value, path, node);
}

function columnOf(text: string, offset: number): number {
    return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

function lineBreakOf(text: string): string {
    return text.includes("\r\n") ? "\r\n" : "\n";
}

/** Where a new last line of a block map goes: at the start of the line after its content. */
function lineStartAfter(text: string, offset: number): { at: number; prefix: string } {
    if (offset > 0 && text[offset - 1] === "\n") {
        return { at: offset, prefix: "" };
    }
    const newline = text.indexOf("\n", offset);
    return newline === -1 ? { at: text.length, prefix: lineBreakOf(text) } : { at: newline + 1, prefix: "" };
}

/** A new last entry of a flow mapping `{a: 1}`: written right after the last value. */
function flowInsertion(map: YAMLMap, key: string, value: string, depth: number): TextEdit {
    const last = map.items[map.items.length - 1];
    const lastEnd = isNode(last?.value) ? last.value.range?.[1] : undefined;
    if (last === undefined && map.range) {
        const at = map.range[0] + 1;
        return { start: at, end: at, text: `${key}: ${value}`, depth };
    }
    if (lastEnd === undefined) {
        throw new StackFileError(`cannot add ${key} to this flow mapping; edit it by hand`);
    }
    return { start: lastEnd, end: lastEnd, text: `, ${key}: ${value}`, depth };
}

/** A new last entry of `map`, in the map's own style and indentation. */
function insertion(text: string, map: YAMLMap, key: string, value: string, depth: number): TextEdit {
    if (map.flow) {
        return flowInsertion(map, key, value, depth);
    }
    const firstKey = map.items[0]?.key;
    if (!isScalar(firstKey) || !firstKey.range || !map.range) {
        throw new StackFileError(`cannot add ${key} to this mapping; edit it by hand`);
    }
    const indent = " ".repeat(columnOf(text, firstKey.range[0]));
    const { at, prefix } = lineStartAfter(text, map.range[1]);
    return { start: at, end: at, text: `${prefix}${indent}${key}: ${value}${lineBreakOf(text)}`, depth };
}

function editFor(doc: Document, text: string, block: ReleaseBlockPath, change: ReleaseChange): TextEdit {
    const mapPath = [...documentPath(block), ...change.path.slice(0, -1)];
    const key = change.path[change.path.length - 1];
    const map = doc.getIn(mapPath, true);
    if (!isMap(map)) {
        throw new StackFileError(`${releaseKey(change.path.slice(0, -1), block)} is not a YAML mapping in the file; edit it by hand`);
    }
    const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
    if (pair === undefined) {
        return insertion(text, map, key, renderValue(change, undefined), change.path.length);
    }
    const node = pair.value;
    if (isMap(node) && node.range && typeof change.after === "object" && isScalar(pair.key) && pair.key.range) {
        // A whole mapping (a color's env or secrets) is written again as one flow mapping after
        // the key; a block mapping's range ends after its last line break, so one is put back.
        const lineBreak = node.flow ? "" : lineBreakOf(text);
        return { start: pair.key.range[1], end: node.range[1], text: `: ${renderValue(change, undefined)}${lineBreak}`, depth: change.path.length };
    }
    if (!isScalar(node) || !node.range || node.value === null) {
        throw new StackFileError(`${releaseKey(change.path, block)} is not a plain value in the file (alias or collection); edit it by hand`);
    }
    return { start: node.range[0], end: node.range[1], text: renderValue(change, node), depth: change.path.length };
}

/**
 * Applies the edits from the end of the text backwards so earlier offsets stay valid.
 * Insertions at one offset end up deeper key first, then in the order of the changes.
 */
function splice(text: string, edits: TextEdit[]): string {
    const lastFirst = edits.map((edit, order) => ({ edit, order })).sort((a, b) => b.edit.start - a.edit.start || a.edit.depth - b.edit.depth || b.order - a.order);
    return lastFirst.reduce((result, { edit }) => result.slice(0, edit.start) + edit.text + result.slice(edit.end), text);
}

/** The same edit through the Document API: what the spliced text must mean. */
function expectedMeaning(text: string, block: ReleaseBlockPath, changes: readonly ReleaseChange[]): unknown {
    const doc = parseStackText(text);
    for (const change of changes) {
        doc.setIn([...documentPath(block), ...change.path], change.after);
    }
    return doc.toJS();
}

/**
 * Returns `text` with the changes applied to the release block at `block` (default: the
 * main track's `portal:release`); only the changed scalars (or added lines) differ.
 */
export function applyReleaseChanges(text: string, changes: readonly ReleaseChange[], block: ReleaseBlockPath = MAIN_RELEASE): string {
    const doc = parseStackText(text);
    if (!isMap(doc.getIn(documentPath(block), true))) {
        throw new StackFileError(`${releaseKey([], block)} is not a YAML mapping in the file; edit it by hand`);
    }
    const edited = splice(text, changes.map((change) => editFor(doc, text, block, change)));
    const result = parseDocument(edited);
    if (result.errors.length > 0 || !isDeepStrictEqual(result.toJS(), expectedMeaning(text, block, changes))) {
        throw new StackFileError("editing the release block in place would change more than the release values; edit it by hand");
    }
    return edited;
}

/** A stack file's raw `config.<key>` value, encrypted leaves as `{ secure: <ciphertext> }`; undefined when absent. */
export function rawStackValue(text: string, key: string): unknown {
    const doc = parseStackText(text).toJS() as { config?: Record<string, unknown> } | null;
    return doc?.config?.[key];
}

const APP_SECRETS = "portal:appSecrets";
const COLOR_SECRETS = "portal:colorSecrets";

/** `portal:colorSecrets` (the block of its per-color changes). */
export const COLOR_SECRETS_BLOCK: ReleaseBlockPath = [COLOR_SECRETS];

function isCiphertextMap(value: unknown): value is Record<string, { secure: string }> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    return Object.values(value).every((v) => typeof v === "object" && v !== null && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string");
}

/**
 * The edit that gives each of `colors` its own copy of `portal:appSecrets` as
 * `portal:colorSecrets.<color>`, ciphertexts copied as they are: a value encrypted for this
 * stack decrypts wherever it sits in the stack's config. pulumi/pulumi@v3.248.0
 * sdk/go/common/resource/config/crypt.go: the passphrase crypter opens AES-256-GCM with the
 * stored nonce and no additional data (`aesgcm.Open(nil, nonce, ciphertext, nil)`), and
 * pkg/secrets/service/manager.go decrypts through the service for the stack alone: neither
 * binds a ciphertext to its key. Nothing is decrypted here. Without appSecrets a color gets
 * `{}` (when it had a copy) so it runs without the old ones.
 */
export function secretCopies(text: string, colors: readonly string[]): { block: ReleaseBlockPath; changes: ReleaseChange[] } {
    const source = rawStackValue(text, APP_SECRETS) ?? {};
    if (!isCiphertextMap(source)) {
        throw new StackFileError(`${APP_SECRETS} must be a map of NAME: secret set one by one (pulumi config set --secret --path '${APP_SECRETS}.NAME'), so each color can get its own copy; it is ${Array.isArray(source) ? "a list" : typeof source === "object" && source !== null && "secure" in source ? "one encrypted value" : "not such a map"}`);
    }
    const copy = Object.fromEntries(Object.entries(source).map(([name, v]) => [name, { secure: v.secure }]));
    const existing = rawStackValue(text, COLOR_SECRETS);
    if (existing === undefined) {
        if (Object.keys(copy).length === 0) return { block: [], changes: [] };
        return { block: [], changes: [{ path: [COLOR_SECRETS], before: undefined, after: Object.fromEntries(colors.map((c) => [c, copy])) }] };
    }
    const had = (typeof existing === "object" && existing !== null ? existing : {}) as Record<string, unknown>;
    const changes = colors
        .filter((c) => !isDeepStrictEqual(had[c], copy) && (had[c] !== undefined || Object.keys(copy).length > 0))
        .map((c) => ({ path: [c], before: undefined, after: copy }));
    return { block: COLOR_SECRETS_BLOCK, changes };
}
