// Reads the raw `portal:` values out of Pulumi's flat config map ("portal:release" ->
// JSON text). The secret keys are read too, for validation only (their shape and how
// they are stored); the program takes their values through the Pulumi Config API.

import type { RawConfig } from "./config";

const NAMESPACE = "portal:";

export function readRawConfig(all: Record<string, string>): RawConfig {
    const raw: RawConfig = {};
    for (const [fullKey, text] of Object.entries(all)) {
        if (!fullKey.startsWith(NAMESPACE)) continue;
        const key = fullKey.slice(NAMESPACE.length);
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
