// Runs the real Pulumi program (no CLI, no servers, no credentials) (program.ts) under Pulumi's mock runtime for a given stack
// config and returns every resource it declared: type, name, URN, resolved inputs, and the
// options mocks do not report (parent, dependsOn, protect, ignoreChanges), captured with a
// transformations hook on the top component.

import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { guardedProgram, DEPLOYED_OUTPUT, type ProgramOutputs } from "../program";
import type { DeployedState } from "../lib/liveGuard";

export interface DeclaredResource {
    /** The URN the mock monitor gives (its type part names the immediate parent's type only). */
    urn: string;
    /** The URN the real engine gives: the parent's full qualified type chain (see engineUrns). */
    engineUrn: string;
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    parent?: string;
    dependsOn: string[];
    protect: boolean;
    ignoreChanges: string[];
    /** URN of the explicit provider passed in the resource's options (mocks do not report it). */
    provider?: string;
    deleteBeforeReplace?: boolean;
    additionalSecretOutputs: string[];
    /** Aliases given as URN strings (the form the URN safety net accepts). */
    aliases: string[];
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
    if (args.type === "docker:index/remoteImage:RemoteImage") {
        state.imageId = `sha256:${digest(args.inputs.name)}`;
        state.repoDigest = `${args.inputs.name}@sha256:mock`;
    }
    return state;
}

function digest(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

function urnOf(resource: pulumi.Resource): Promise<string> {
    return new Promise((resolve) => resource.urn.apply((u) => resolve(u)));
}


/**
 * URNs as the engine forms them: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`, the
 * qualified type being the parent's whole qualified type, `$`, the resource's type; a resource
 * without a parent (the stack's child) has its bare type. pulumi@v3.248.0
 * pkg/resource/deploy/deployment.go generateURN and sdk/go/common/resource/urn/urn.go New.
 * The mock monitor (@pulumi/pulumi runtime/mocks.js newUrn) keeps only the immediate parent's
 * type, so a new component layer higher up would not change its URNs; these do.
 */
function engineUrns(seen: { resource: pulumi.Resource; type: string; name: string; opts: pulumi.ResourceOptions }[]): Map<pulumi.Resource, string> {
    const byResource = new Map(seen.map((s) => [s.resource, s]));
    const qualified = new Map<pulumi.Resource, string>();
    const qualifiedType = (r: pulumi.Resource): string => {
        const known = qualified.get(r);
        if (known !== undefined) return known;
        const s = byResource.get(r)!;
        const parent = s.opts.parent && byResource.has(s.opts.parent) ? qualifiedType(s.opts.parent) : undefined;
        const type = parent ? `${parent}$${s.type}` : s.type;
        qualified.set(r, type);
        return type;
    };
    const prefix = `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::`;
    return new Map(seen.map((s) => [s.resource, `${prefix}${qualifiedType(s.resource)}::${s.name}`]));
}

/** The explicit provider of a custom resource: `provider`, else the one of `providers` (none: the default provider). */
function providerOf(opts: pulumi.ResourceOptions, urns: Map<pulumi.Resource, string>): string | undefined {
    const explicit = (opts as pulumi.CustomResourceOptions).provider;
    return explicit ? (urns.get(explicit) ?? "<unknown>") : undefined;
}

export interface EvaluateOptions {
    /** The stack name the program sees (pulumi.getStack()), e.g. in its notices; default "test". */
    stack?: string;
    /**
     * The stack's last deployed state, served as its own `deployed` output to the program's
     * StackReference (the live guard reads it). Absent: a new stack, nothing to guard.
     */
    lastDeployed?: DeployedState;
}

export async function evaluate(stackConfig: StackConfig, secretConfig: Record<string, unknown> = {}, options: EvaluateOptions = {}): Promise<Evaluation> {
    const inputsByKey = new Map<string, Record<string, unknown>>();
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                if (args.type === "pulumi:pulumi:StackReference") {
                    const outputs = options.lastDeployed ? { [DEPLOYED_OUTPUT]: options.lastDeployed } : {};
                    return { id: String(args.inputs.name), state: { name: args.inputs.name, outputs, secretOutputNames: Object.keys(outputs) } };
                }
                inputsByKey.set(`${args.type}::${args.name}`, args.inputs);
                // Like a real provider, a resource re-created with other inputs gets a new id.
                return { id: `${args.name}-${digest(args.inputs).slice(0, 12)}`, state: mockOutputs(args) };
            },
            call: (args) => args.inputs,
        },
        "portal",
        options.stack ?? "test",
        false,
        "organization",
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
        outputs = await guardedProgram({ transformations: [capture] });
        // Wait until every declared resource has registered with the mock monitor.
        urns = await Promise.all(seen.map((s) => urnOf(s.resource)));
        await new Promise((r) => setImmediate(r));
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
    const urnByResource = new Map(seen.map((s, i) => [s.resource, urns[i]]));
    const engineUrnOf = engineUrns(seen);
    const resources = new Map<string, DeclaredResource>();
    for (const [i, s] of seen.entries()) {
        const parent = s.opts.parent ? urnByResource.get(s.opts.parent) : undefined;
        const deps = Array.isArray(s.opts.dependsOn) ? (s.opts.dependsOn as pulumi.Resource[]) : s.opts.dependsOn ? [s.opts.dependsOn as pulumi.Resource] : [];
        resources.set(urns[i], {
            urn: urns[i],
            engineUrn: engineUrnOf.get(s.resource)!,
            type: s.type,
            name: s.name,
            inputs: inputsByKey.get(`${s.type}::${s.name}`) ?? {},
            parent,
            dependsOn: deps.map((d) => urnByResource.get(d) ?? "<unknown>"),
            protect: s.opts.protect === true,
            ignoreChanges: s.opts.ignoreChanges ?? [],
            provider: providerOf(s.opts, urnByResource),
            deleteBeforeReplace: (s.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
            additionalSecretOutputs: (s.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [],
            aliases: (s.opts.aliases ?? []).filter((a): a is string => typeof a === "string"),
        });
    }
    return { resources, outputs };
}
