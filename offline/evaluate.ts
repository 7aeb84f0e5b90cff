// Runs the real Pulumi program (no CLI, no servers, no credentials) (program.ts) under Pulumi's mock runtime for a given stack
// config and returns every resource it declared: type, name, URN, resolved inputs, and the
// options mocks do not report (parent, dependsOn, protect, ignoreChanges), captured with a
// transformations hook on the top component.

import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { portalProgram, type ProgramOutputs } from "../program";

export interface DeclaredResource {
    urn: string;
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    parent?: string;
    dependsOn: string[];
    protect: boolean;
    ignoreChanges: string[];
}

export interface Evaluation {
    resources: Map<string, DeclaredResource>;
    outputs: ProgramOutputs;
}

/** The stack config as in Pulumi.<stack>.yaml: `portal:key` -> value (objects allowed). */
export type StackConfig = Record<string, unknown>;

/** Deterministic outputs for the mock provider: the stamp step prints a date, images get an id. */
function mockOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
    const state: Record<string, unknown> = { ...args.inputs };
    if (args.type === "command:local:Command" && args.name.endsWith("release-stamp")) {
        state.stdout = "20200807-101500\n";
    }
    if (args.type === "random:index/randomId:RandomId") {
        // Like the provider, a new value whenever the keepers change (here: derived from them).
        state.hex = mockRandomHex(args.inputs.keepers, Number(args.inputs.byteLength ?? 8));
    }
    if (args.type === "docker:index/remoteImage:RemoteImage") {
        state.imageId = `sha256:${digest(args.inputs.name)}`;
        state.repoDigest = `${args.inputs.name}@sha256:mock`;
    }
    return state;
}

/** The mock RandomId's hex: derived from its keepers, so it changes exactly when they do. */
export function mockRandomHex(keepers: unknown, byteLength: number): string {
    return digest({ keepers }).slice(0, 2 * byteLength);
}

function digest(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

function urnOf(resource: pulumi.Resource): Promise<string> {
    return new Promise((resolve) => resource.urn.apply((u) => resolve(u)));
}


export async function evaluate(stackConfig: StackConfig, secretConfig: Record<string, unknown> = {}): Promise<Evaluation> {
    const inputsByKey = new Map<string, Record<string, unknown>>();
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                inputsByKey.set(`${args.type}::${args.name}`, args.inputs);
                // Like a real provider, a resource re-created with other inputs gets a new id.
                return { id: `${args.name}-${digest(args.inputs).slice(0, 12)}`, state: mockOutputs(args) };
            },
            call: (args) => args.inputs,
        },
        "portal",
        "test",
        false,
    );
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...stackConfig, ...secretConfig })) {
        all[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    pulumi.runtime.setAllConfig(all, Object.keys(secretConfig));

    const seen: { resource: pulumi.Resource; type: string; name: string; opts: pulumi.ResourceOptions }[] = [];
    const capture: pulumi.ResourceTransformation = (args) => {
        seen.push({ resource: args.resource, type: args.type, name: args.name, opts: args.opts });
        return undefined;
    };
    // The SDK captures a stack trace for every promise it makes; under ts-node's source maps
    // that dominates the run. Offline they serve nothing, so keep them empty meanwhile.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let urns: string[];
    let outputs: ProgramOutputs;
    try {
        outputs = portalProgram({ transformations: [capture] });
        // Wait until every declared resource has registered with the mock monitor.
        urns = await Promise.all(seen.map((s) => urnOf(s.resource)));
        await new Promise((r) => setImmediate(r));
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
    const urnByResource = new Map(seen.map((s, i) => [s.resource, urns[i]]));
    const resources = new Map<string, DeclaredResource>();
    for (const [i, s] of seen.entries()) {
        const parent = s.opts.parent ? urnByResource.get(s.opts.parent) : undefined;
        const deps = Array.isArray(s.opts.dependsOn) ? (s.opts.dependsOn as pulumi.Resource[]) : s.opts.dependsOn ? [s.opts.dependsOn as pulumi.Resource] : [];
        resources.set(urns[i], {
            urn: urns[i],
            type: s.type,
            name: s.name,
            inputs: inputsByKey.get(`${s.type}::${s.name}`) ?? {},
            parent,
            dependsOn: deps.map((d) => urnByResource.get(d) ?? "<unknown>"),
            protect: s.opts.protect === true,
            ignoreChanges: s.opts.ignoreChanges ?? [],
        });
    }
    return { resources, outputs };
}
