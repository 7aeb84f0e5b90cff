// Compares two evaluations of the program the way `pulumi preview` would: by URN, on
// every resource's full inputs.

import { isDeepStrictEqual } from "node:util";
import type { Evaluation } from "./evaluate";

export interface ResourceDiff {
    added: string[];
    removed: string[];
    changed: string[];
}

/** The short name of a URN (its last `::` part), e.g. `web1-route-live`. */
export function nameOf(urn: string): string {
    return urn.split("::").pop()!;
}

export function diff(before: Evaluation, after: Evaluation): ResourceDiff {
    const added: string[] = [];
    const changed: string[] = [];
    for (const [urn, r] of after.resources) {
        const old = before.resources.get(urn);
        if (!old) added.push(nameOf(urn));
        else if (!isDeepStrictEqual(old.inputs, r.inputs)) changed.push(nameOf(urn));
    }
    const removed = [...before.resources.keys()].filter((urn) => !after.resources.has(urn)).map(nameOf);
    return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}

/** `names` for every server, e.g. perServer(["web1","web2"], ["route-live"]) -> web1-route-live, web2-route-live. */
export function perServer(servers: string[], suffixes: string[]): string[] {
    return servers.flatMap((s) => suffixes.map((suffix) => `${s}-${suffix}`));
}
