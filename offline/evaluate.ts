// Runs the real Pulumi program (no CLI, no servers, no credentials) (program.ts) under Pulumi's mock runtime for a given stack
// config and returns every resource it declared: type, name, URN, resolved inputs, and the
// options mocks do not report (parent, dependsOn, protect, ignoreChanges), captured with a
// transformations hook on the top component.

import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { guardedProgram, DEPLOYED_OUTPUT, type ProgramOutputs } from "../program";
import type { DeployedState } from "../lib/model/liveGuard";
import { PROJECT } from "../lib/model/project";

export interface DeclaredResource {
    /** The URN the mock monitor gives (its type part names the immediate parent's type only). */
    urn: string;
    /** The URN the real engine gives (the parent's whole qualified type chain): the one its messages name. */
    engineUrn: string;
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    parent?: string;
    dependsOn: string[];
    protect: boolean;
    ignoreChanges: string[];
    /** The resource options the engine reads when it plans a replacement (undefined: not set). */
    deleteBeforeReplace?: boolean;
    replaceOnChanges: string[];
    /** URN of the explicit provider passed in the resource's options (mocks do not report it). */
    provider?: string;
    additionalSecretOutputs: string[];
    /** Aliases given as URN strings (the form the URN safety net accepts). */
    aliases: string[];
    /** What the mock provider returned: the id and the state (inputs plus computed outputs). */
    id: string;
    outputs: Record<string, unknown>;
}

export interface Evaluation {
    resources: Map<string, DeclaredResource>;
    outputs: ProgramOutputs;
    /** URNs the program registered more than once (the engine refuses the second registration). */
    duplicateUrns: string[];
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
        // Per resource (the engine model tells outputs apart by value), and new with every new image name.
        state.imageId = `sha256:${digest([args.name, args.inputs.name])}`;
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


/**
 * A content hash of a file archive or asset (its files' relative paths and bytes): the
 * engine serializes an archive with its hash and diffs on it (pulumi/pulumi@v3.248.0
 * sdk/go/common/resource/archive.go `Archive.Hash`), and CopyToRemote copies again when it
 * changes (pulumi-command@v1.2.1 provider/pkg/provider/remote/copyController.go:148). The
 * mock runtime passes archives without path or hash, so the evaluation adds it.
 */
function contentHash(root: string): string {
    const hash = createHash("sha256");
    const walk = (dir: string, rel: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full, `${rel}${entry.name}/`);
            else hash.update(`${rel}${entry.name}\0`).update(fs.readFileSync(full)).update("\0");
        }
    };
    if (fs.statSync(root).isDirectory()) walk(root, "");
    else hash.update(fs.readFileSync(root));
    return hash.digest("hex");
}

/** The archives and assets among a resource's args, with their content hashes. */
async function assetHashes(props: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    const found: Record<string, unknown> = {};
    const isAsset = (v: unknown): boolean => pulumi.asset.Archive.isInstance(v) || pulumi.asset.Asset.isInstance(v);
    const hashed = async (value: unknown) => {
        const where = (value as { path?: Promise<string> }).path;
        const file = where === undefined ? undefined : await where;
        return { archive: file, hash: file === undefined || !fs.existsSync(file) ? "(not a local file)" : contentHash(file) };
    };
    for (const [key, value] of Object.entries(props ?? {}) as [string, unknown][]) {
        if (isAsset(value)) found[key] = await hashed(value);
        // An archive in a list of plain values (a local step's `triggers: [source]`): the list with it hashed.
        else if (Array.isArray(value) && value.some(isAsset) && value.every((v: unknown) => isAsset(v) || typeof v !== "object")) {
            found[key] = await Promise.all(value.map((v: unknown) => (isAsset(v) ? hashed(v) : v)));
        }
    }
    return found;
}

export interface EvaluateOptions {
    /** The stack name the program sees (pulumi.getStack(): URNs, notices); default "test". */
    stack?: string;
    /**
     * The stack's last deployed state, served as its own `deployed` output to the program's
     * StackReference (the live guard reads it). Absent: a new stack, nothing to guard.
     */
    lastDeployed?: DeployedState;
}

/** The explicit provider of a custom resource (none: the default provider). */
function providerOf(opts: pulumi.CustomResourceOptions, urns: Map<pulumi.Resource, string>): string | undefined {
    return opts.provider ? (urns.get(opts.provider) ?? "<unknown>") : undefined;
}

/** A value with every Output inside resolved (for serving outputs to the next evaluation). */
export async function resolved(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) return resolved(await new Promise((r) => (value as pulumi.Output<unknown>).apply((v) => r(v))));
    if (Array.isArray(value)) return Promise.all(value.map(resolved));
    if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolved(v)])));
    }
    return value;
}

/**
 * URNs as the engine forms them: the parent's whole qualified type chain, `$`, the type
 * (pulumi/pulumi@v3.248.0 pkg/resource/deploy/deployment.go generateURN,
 * sdk/go/common/resource/urn/urn.go New); the mock monitor keeps only the immediate parent's type.
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

export async function evaluate(stackConfig: StackConfig, secretConfig: Record<string, unknown> = {}, options: EvaluateOptions = {}): Promise<Evaluation> {
    const inputsByKey = new Map<string, Record<string, unknown>>();
    const mocked = new Map<string, { id: string; state: Record<string, unknown> }>();
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                inputsByKey.set(`${args.type}::${args.name}`, args.inputs);
                // Like a real provider, a resource re-created with other inputs gets a new id.
                const result = { id: `${args.name}-${digest(args.inputs).slice(0, 12)}`, state: mockOutputs(args) };
                if (args.type === "pulumi:pulumi:StackReference") {
                    const outputs = options.lastDeployed === undefined ? {} : { [DEPLOYED_OUTPUT]: options.lastDeployed };
                    result.state = { name: args.inputs.name, outputs, secretOutputNames: Object.keys(outputs) };
                }
                mocked.set(`${args.type}::${args.name}`, result);
                return result;
            },
            call: (args) => args.inputs,
        },
        PROJECT,
        options.stack ?? "test",
        false,
        "organization",
    );
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...stackConfig, ...secretConfig })) {
        all[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    pulumi.runtime.setAllConfig(all, Object.keys(secretConfig));

    const seen: { resource: pulumi.Resource; type: string; name: string; opts: pulumi.CustomResourceOptions; props: Record<string, unknown> }[] = [];
    const capture: pulumi.ResourceTransformation = (args) => {
        seen.push({ resource: args.resource, type: args.type, name: args.name, opts: args.opts as pulumi.CustomResourceOptions, props: args.props as Record<string, unknown> });
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
    const resources = new Map<string, DeclaredResource>();
    const engineUrnOf = engineUrns(seen);
    const engine = seen.map((s) => engineUrnOf.get(s.resource)!);
    const duplicateUrns = engine.filter((u, i) => engine.indexOf(u) !== i);
    const hashes = await Promise.all(seen.map((s) => assetHashes(s.props)));
    for (const [i, s] of seen.entries()) {
        const mock = mocked.get(`${s.type}::${s.name}`);
        const parent = s.opts.parent ? urnByResource.get(s.opts.parent) : undefined;
        const deps = Array.isArray(s.opts.dependsOn) ? (s.opts.dependsOn as pulumi.Resource[]) : s.opts.dependsOn ? [s.opts.dependsOn as pulumi.Resource] : [];
        resources.set(urns[i], {
            urn: urns[i],
            engineUrn: engineUrnOf.get(s.resource)!,
            type: s.type,
            name: s.name,
            inputs: { ...(inputsByKey.get(`${s.type}::${s.name}`) ?? {}), ...hashes[i] },
            parent,
            dependsOn: deps.map((d) => urnByResource.get(d) ?? "<unknown>"),
            protect: s.opts.protect === true,
            ignoreChanges: s.opts.ignoreChanges ?? [],
            deleteBeforeReplace: s.opts.deleteBeforeReplace,
            replaceOnChanges: s.opts.replaceOnChanges ?? [],
            provider: providerOf(s.opts, urnByResource),
            additionalSecretOutputs: s.opts.additionalSecretOutputs ?? [],
            aliases: (s.opts.aliases ?? []).filter((a): a is string => typeof a === "string"),
            id: mock?.id ?? "",
            // Plain data only (a mocked archive carries an unresolved promise).
            outputs: JSON.parse(JSON.stringify(mock?.state ?? {})) as Record<string, unknown>,
        });
    }
    return { resources, outputs, duplicateUrns };
}
