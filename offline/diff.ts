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

/**
 * Inputs whose change makes the provider replace the resource rather than update it:
 * docker containers (their inputs are create-only), an image's name, a command's triggers.
 */
function replacedBy(type: string, key: string): boolean {
    if (type === "docker:index/container:Container") return true;
    if (type === "docker:index/remoteImage:RemoteImage") return ["name", "triggers", "pullTriggers"].includes(key);
    return type.startsWith("command:") && key === "triggers";
}

/**
 * One line per differing resource, marked as a preview marks it: `~` update, `+-` replace,
 * `+` create, `-` delete, followed by the inputs that differ.
 */
export function describeDiff(before: Evaluation, after: Evaluation): string[] {
    const lines: string[] = [];
    for (const [urn, r] of after.resources) {
        const old = before.resources.get(urn);
        if (!old) {
            lines.push(`+ ${r.name}`);
            continue;
        }
        const keys = [...new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)])].filter(
            (k) => !isDeepStrictEqual(old.inputs[k], r.inputs[k]),
        );
        if (keys.length > 0) {
            const op = keys.some((k) => replacedBy(r.type, k)) ? "+-" : "~";
            lines.push(`${op} ${r.name}  (${keys.sort().join(", ")})`);
        }
    }
    for (const [urn, r] of before.resources) {
        if (!after.resources.has(urn)) lines.push(`- ${r.name}`);
    }
    return lines;
}
