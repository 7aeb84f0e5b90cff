// Reads the raw `portal:` values out of Pulumi's flat config map ("portal:release" ->
// JSON text), leaving the secret keys to the Pulumi Config API.

import { SECRET_KEYS, type RawConfig } from "./config";

const NAMESPACE = "portal:";

export function readRawConfig(all: Record<string, string>): RawConfig {
    const raw: RawConfig = {};
    for (const [fullKey, text] of Object.entries(all)) {
        if (!fullKey.startsWith(NAMESPACE)) continue;
        const key = fullKey.slice(NAMESPACE.length);
        if ((SECRET_KEYS as readonly string[]).includes(key)) continue;
        raw[key] = parse(text);
    }
    return raw;
}

/** Structured values arrive as JSON text; plain strings (an image name) are kept as they are. */
function parse(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
