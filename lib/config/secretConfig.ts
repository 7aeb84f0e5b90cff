// Secrets as Pulumi stores them in a stack file, and the rule that the keys holding
// secrets are stored encrypted.
//
// `pulumi config set --secret portal:slackWebhook …` writes `portal:slackWebhook: {secure: …}`;
// with `--path 'portal:appSecrets.DB'` it writes the map `portal:appSecrets: {DB: {secure: …}}`.
// The engine hands the program the decrypted value of a key as text (a nested value as
// JSON) and lists the key as secret when any value inside it is secure
// (pulumi/pulumi@v3.248.0 sdk/go/common/resource/config/value.go: `Secure()` is true for an
// object holding a secure value; the language host passes those keys in
// PULUMI_CONFIG_SECRET_KEYS, read by sdk/nodejs/runtime/config.ts `isConfigSecret`).

import { createHash } from "node:crypto";
import type { Problems } from "./configError";
import { ENV_NAME, ENV_VALUE } from "./patterns";

/** Keys that hold secrets: read with requireSecret/getSecret, never shown. */
export const SECRET_KEYS = ["sshPrivateKey", "slackWebhook", "appSecrets", "colorSecrets", "registryPassword"] as const;

/** What an encrypted value becomes offline (the plan cannot decrypt it). */
export const SECRET_PLACEHOLDER = "(secret: not decrypted offline)";

/**
 * The offline value of one encrypted leaf: the placeholder with a digest of its ciphertext,
 * so a secret set again (a new ciphertext) reads as a changed value in the offline preview
 * and one copied unchanged (the release helper copies ciphertexts) as the same value. The
 * engine compares decrypted values: a secret set again to the same value changes nothing there.
 */
export function placeholderFor(ciphertext: unknown): string {
    const digest = createHash("sha256").update(String(ciphertext)).digest("hex").slice(0, 12);
    return `(secret ${digest}: not decrypted offline)`;
}

/** A value that stands for an encrypted one offline (SECRET_PLACEHOLDER or placeholderFor). */
export function isPlaceholder(value: unknown): value is string {
    return typeof value === "string" && /^\(secret( [0-9a-f]{12})?: not decrypted offline\)$/.test(value);
}

/**
 * Where the stack stores secrets, as dotted paths below `portal:` (`slackWebhook`,
 * `appSecrets.DB`): a path is encrypted when it or one of its parents is listed.
 * Offline the stack file gives every encrypted leaf; a running program knows only the
 * top-level keys the engine marks secret.
 */
export interface SecretStorage {
    encrypted: readonly string[];
    /** The stack name for the commands in messages; `<stack>` when unknown. */
    stack?: string;
}

function isSecure(value: unknown): value is { secure: unknown } {
    return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

export interface StackValues {
    /** Every key of the file's `config:`, encrypted leaves replaced by placeholderFor(ciphertext). */
    values: Record<string, unknown>;
    /** Keys the engine would mark secret: those holding any encrypted value. */
    secretKeys: string[];
    /** Dotted paths (full keys, `portal:appSecrets.DB`) of the encrypted leaves. */
    encrypted: string[];
}

/** Reads a stack file's `config:` map the way the engine does, without decrypting. */
export function stackValues(config: Record<string, unknown>): StackValues {
    const encrypted: string[] = [];
    const walk = (value: unknown, path: string): unknown => {
        if (isSecure(value)) {
            encrypted.push(path);
            return placeholderFor(value.secure);
        }
        if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
        if (typeof value === "object" && value !== null) {
            return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${path}.${k}`)]));
        }
        return value;
    };
    const values: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(config)) {
        const before = encrypted.length;
        values[key] = walk(value, key);
        if (encrypted.length > before) secretKeys.push(key);
    }
    return { values, secretKeys, encrypted };
}

/** The command that stores `path` (below `portal:`) encrypted in the stack. */
export function secretCommand(path: string, stack = "<stack>"): string {
    if (path === "sshPrivateKey") return `pulumi config set --secret portal:sshPrivateKey -s ${stack} < ~/.ssh/portal_deploy`;
    if (path === "slackWebhook") return `pulumi config set --secret portal:slackWebhook https://hooks.slack.com/services/… -s ${stack}`;
    return `pulumi config set --secret --path 'portal:${path}' -s ${stack}`;
}

function encryptedAt(storage: SecretStorage, path: string): boolean {
    return storage.encrypted.some((e) => path === e || path.startsWith(`${e}.`) || path.startsWith(`${e}[`));
}

function isMap(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
    if (Array.isArray(value)) return "a list";
    if (value === null) return "null";
    return typeof value === "object" ? "a map" : `a ${typeof value}`;
}

/**
 * Checks the secret keys' shapes (never printing a value) and, when the storage is known,
 * that each is encrypted in the stack and that no other key holds an encrypted value.
 */
export function checkSecrets(p: Problems, raw: Record<string, unknown>, storage: SecretStorage | undefined): void {
    const plain = (path: string) => {
        if (storage && !encryptedAt(storage, path)) {
            p.add(path, `is in plain text in the stack file; allowed: a secret, stored with: ${secretCommand(path, storage.stack)}`);
        }
    };
    for (const key of ["sshPrivateKey", "slackWebhook"] as const) {
        const value = raw[key];
        if (value === undefined) continue;
        if (typeof value !== "string" || value === "") p.add(key, `is ${describeType(value)}; allowed: a non-empty string (${secretCommand(key, storage?.stack)})`);
        else plain(key);
    }
    /** A map of secret env values (appSecrets, colorSecrets.<color>); a whole encrypted map is opaque offline. */
    const secretEnv = (path: string, secrets: unknown, how: string) => {
        if (secrets === undefined || isPlaceholder(secrets)) return;
        if (!isMap(secrets)) {
            p.add(path, `is ${describeType(secrets)}; allowed: a map of NAME: secret value, ${how}`);
            return;
        }
        for (const [name, value] of Object.entries(secrets)) {
            if (!ENV_NAME.test(name)) {
                p.add(`${path}.${name}`, "is not an environment variable name; allowed: [A-Za-z_][A-Za-z0-9_]*");
            } else if (typeof value !== "string" || !ENV_VALUE.test(value)) {
                p.add(`${path}.${name}`, `is ${typeof value === "string" ? "a string with a newline or NUL" : describeType(value)}; allowed: a string without newline or NUL`);
            } else {
                plain(`${path}.${name}`);
            }
        }
    };
    secretEnv("appSecrets", raw.appSecrets, `one per ${secretCommand("appSecrets.NAME", storage?.stack)}`);
    const colors = raw.colorSecrets;
    if (colors !== undefined && !isPlaceholder(colors)) {
        if (!isMap(colors)) {
            p.add("colorSecrets", `is ${describeType(colors)}; allowed: a map of color: { NAME: secret value }, written by the release helper's prepare`);
        } else {
            for (const [color, secrets] of Object.entries(colors)) secretEnv(`colorSecrets.${color}`, secrets, "copied from portal:appSecrets by the release helper's prepare");
        }
    }
    if (!storage) return;
    for (const path of storage.encrypted) {
        const top = path.split(/[.[]/)[0];
        if (!(SECRET_KEYS as readonly string[]).includes(top)) {
            p.add(path, `is stored as a secret, but ${top === "app" ? "portal:app.env is plain environment" : `portal:${top} is not a secret key`}; allowed: a plain value, secrets only in ${SECRET_KEYS.map((k) => `portal:${k}`).join(", ")} (a secret env value: ${secretCommand("appSecrets.NAME", storage.stack)})`);
        }
    }
}
