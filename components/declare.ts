// Declares a rollout plan (lib/plan/rollout.ts): each planned component as a component
// resource, each step as the one resource it names, with the plan's parent and dependsOn.
// Nothing here decides an order or a name; it resolves the plan's Refs to Outputs and adds
// the secrets the plan leaves out (ssh key, registry password, env, webhook).

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Color, PortalConfig } from "../lib/config/config";
import { CONTAINER_OPTIONS } from "../lib/plan/containerPolicy";
import { type Arg, type ComponentKind, type PlannedComponent, type Ref, type RolloutPlan, type Step, type Text } from "../lib/plan/plan";
import { saltedRouteContent } from "../lib/plan/rollout";
import { ShellCommand } from "../lib/server/shell";
import type { AppEnv } from "./appEnv";
import { slackNotice } from "./notice";
import { LocalTarget, RemoteTarget, type CommandStep, type StepTarget } from "./target";

/** One planned component: Server, Edge, ColorDeployment, Routing, Promotion, Workers, Migration. */
export class RolloutComponent extends pulumi.ComponentResource {
    constructor(kind: Exclude<ComponentKind, "Portal">, name: string, opts: pulumi.ComponentResourceOptions) {
        super(`portal:index:${kind}`, name, {}, opts);
    }

    /** Registers the component's outputs once its steps are declared. */
    complete(outputs: Record<string, unknown>): void {
        this.registerOutputs(outputs);
    }
}

export interface DeclareSecrets {
    /** portal:sshPrivateKey; without it ssh uses the agent. */
    sshPrivateKey?: pulumi.Output<string>;
    /** portal:registryPassword, required with portal:registry. */
    registryPassword?: pulumi.Output<string>;
    slackWebhook?: pulumi.Output<string>;
}

export interface DeclareArgs {
    config: PortalConfig;
    secrets: DeclareSecrets;
    /** Each color's env (container lines and env file; secret when it has secrets). */
    env: (color: Color) => AppEnv;
}

/**
 * The provider's registry login. kreuzwerker/terraform-provider-docker@v4.2.0
 * internal/provider/resource_docker_image_funcs.go pullImage: a pull sends the credentials of
 * the provider's `registry_auth` entry whose address is the image's registry host, and empty
 * ones otherwise (provider.go providerSetToRegistryAuth keys them by host); the operator's
 * `docker login` is not read unless an entry names a config file. The password stays a secret.
 */
function registryAuth(registry: { address: string; username: string } | undefined, password: pulumi.Output<string> | undefined): Pick<docker.ProviderArgs, "registryAuth"> {
    if (!registry) return {};
    if (!password) {
        throw new pulumi.RunError(`portal:registry is set but portal:registryPassword is not; set it with: pulumi config set --secret portal:registryPassword`);
    }
    return { registryAuth: [{ address: registry.address, username: registry.username, password: pulumi.secret(password) }] };
}

/** Declares every component and step of `plan` under `root`; returns each resource by its id. */
export function declarePlan(plan: RolloutPlan, root: pulumi.ComponentResource, args: DeclareArgs): Map<string, pulumi.Resource> {
    const { config, secrets } = args;
    const components = new Map<string, pulumi.ComponentResource>();
    const children: [PlannedComponent, RolloutComponent][] = [];
    const resources = new Map<string, pulumi.Resource>();
    for (const c of plan.components) {
        if (c.parent === undefined) {
            components.set(c.id, root);
            continue;
        }
        const component = new RolloutComponent(c.kind as Exclude<ComponentKind, "Portal">, c.id, { parent: components.get(c.parent)! });
        components.set(c.id, component);
        children.push([c, component]);
    }
    const targets = new Map<string, StepTarget>(
        plan.hosts.map((h) => [
            h.name,
            config.target === "local"
                ? new LocalTarget()
                : new RemoteTarget({ host: h.address, port: config.ssh.port, user: config.ssh.user, privateKey: secrets.sshPrivateKey, hostKey: h.hostKey }),
        ]),
    );

    const resource = (id: string) => {
        const r = resources.get(id);
        if (r === undefined) throw new Error(`step ${id} is not declared yet`);
        return r;
    };
    const value = (ref: Ref): pulumi.Input<unknown> => {
        switch (ref.ref) {
            case "stdout": {
                const out = (resource(ref.step) as CommandStep).stdout;
                return ref.trim ? out.apply((s) => s.trim()) : out;
            }
            case "imageId":
                return (resource(ref.step) as docker.RemoteImage).imageId;
            case "containerId":
                return (resource(ref.step) as docker.Container).id;
            case "envFile":
                return args.env(ref.color).envFile;
            case "envLines":
                return args.env(ref.color).envs;
            case "scripts":
                return new pulumi.asset.FileArchive("scripts");
        }
    };
    const arg = (a: Arg): pulumi.Input<unknown> => (typeof a === "string" ? a : value(a));
    const text = (t: Text): pulumi.Input<string> => {
        if (typeof t === "string") return t;
        if ("salted" in t) return (resource(t.salted.salt) as random.RandomId).hex.apply((salt) => saltedRouteContent(config, t.salted, salt));
        return value(t) as pulumi.Input<string>;
    };
    const line = (argv: readonly Arg[]): ShellCommand | pulumi.Output<ShellCommand> =>
        argv.every((a) => typeof a === "string")
            ? new ShellCommand(argv as string[])
            : pulumi.all(argv.map(arg)).apply((words) => new ShellCommand(words.map(String)));

    for (const step of plan.steps) {
        const opts = { parent: components.get(step.parent)!, dependsOn: step.waitsFor.map(resource) };
        resources.set(step.id, declareStep(step, opts));
    }
    for (const [c, component] of children) component.complete(outputsOf(c));
    return resources;

    function outputsOf(c: PlannedComponent): Record<string, unknown> {
        return Object.fromEntries(Object.entries(c.outputs).map(([k, v]) => [k, typeof v === "object" && v !== null && "ref" in v ? value(v as Ref) : v]));
    }

    function declareStep(step: Step, opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] }): pulumi.Resource {
        switch (step.kind) {
            case "command":
                return targets.get(step.host)!.step(
                    step.id,
                    {
                        create: line(step.argv),
                        ...(step.stdin === undefined ? {} : { stdin: text(step.stdin) }),
                        ...(step.triggers === undefined ? {} : { triggers: step.triggers.map(arg) }),
                        ...(step.rerunOnStdin === false ? { rerunOnStdin: false } : {}),
                        ...(step.logging === undefined ? {} : { logging: step.logging }),
                    },
                    opts,
                );
            case "upload":
                // The archive's directory name is kept: it lands in <dir>/scripts. A connection change
                // alone copies nothing: pulumi-command@v1.2.1 provider/pkg/provider/remote/copyController.go
                // Update copies only when the source's hash or remotePath changed.
                return new command.remote.CopyToRemote(
                    step.id,
                    { connection: (targets.get(step.host) as RemoteTarget).connection, source: new pulumi.asset.FileArchive("scripts"), remotePath: step.remotePath },
                    opts,
                );
            case "dockerProvider":
                // Changing this provider's config (registryAuth, sshOpts for a hostKey) or its plugin
                // version updates it in place; nothing on it is replaced: pulumi@v3.248.0
                // pkg/resource/deploy/providers/registry.go Diff drops `version` (FilterProviderConfig)
                // before the provider's DiffConfig, and pulumi-terraform-bridge@v3.126.0
                // pkg/tfbridge/provider.go configDiffer replaces only keys marked ForcesProviderReplace,
                // of which pulumi-docker@v5.0.0 provider/resources.go marks none.
                return new docker.Provider(
                    step.id,
                    { host: step.address, ...(step.sshOpts ? { sshOpts: step.sshOpts } : {}), ...registryAuth(step.registry, secrets.registryPassword) },
                    { parent: opts.parent },
                );
            case "image":
                // A mutable tag is pulled again by its `-pull` command step first: the provider's
                // create looks the name up locally and pulls only when the engine lacks it
                // (kreuzwerker/terraform-provider-docker@v4.2.0, carried by @pulumi/docker 5.0.0,
                // and the same at v3.9.0: internal/provider/resource_docker_image_funcs.go, findImage);
                // pullTriggers (ForceNew in resource_docker_image.go) replaces the image resource
                // after it, which reads the new image id.
                return new docker.RemoteImage(
                    step.id,
                    { name: step.image, keepLocally: true, ...(step.pullTriggers ? { pullTriggers: step.pullTriggers } : {}) },
                    { ...opts, provider: resource(step.provider) as docker.Provider },
                );
            case "container":
                return new docker.Container(
                    step.id,
                    { ...(step.inputs as unknown as docker.ContainerArgs), image: value(step.image) as pulumi.Input<string>, ...(step.envs ? { envs: value(step.envs) as pulumi.Input<string[]> } : {}) },
                    { ...CONTAINER_OPTIONS, ...opts, provider: resource(step.provider) as docker.Provider, ...(step.protect === undefined ? {} : { protect: step.protect }) },
                );
            case "local":
                return new command.local.Command(step.id, { create: new ShellCommand(step.argv).toString(), triggers: [...step.triggers] }, opts);
            case "notice":
                return slackNotice(step.id, step.message, secrets.slackWebhook!, opts);
            case "salt":
                // A change of keepers replaces the RandomId (a new value); @pulumi/random@4.21.2
                // randomId.d.ts: "keepers: Arbitrary map of values that, when changed, will trigger
                // recreation of resource".
                return new random.RandomId(step.id, { byteLength: step.byteLength, keepers: step.keepers }, { parent: opts.parent });
        }
    }
}
