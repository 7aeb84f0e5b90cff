// The whole stack: the rollout plan of the validated config (lib/plan/rollout.ts), declared
// resource for resource under one Portal component (components/declare.ts).

import * as pulumi from "@pulumi/pulumi";
import type { Color, PortalConfig } from "../lib/config/config";
import { colorEnv, type Stage } from "../lib/model/rollout";
import { tracksOf } from "../lib/model/tracks";
import type { ServerOutputs } from "../lib/plan/plan";
import { planRollout } from "../lib/plan/rollout";
import { appEnv, type AppEnv } from "./appEnv";
import { declarePlan } from "./declare";
import { failureNoticeHook, withErrorHook } from "./notice";

export interface PortalSecrets {
    sshPrivateKey?: pulumi.Output<string>;
    slackWebhook?: pulumi.Output<string>;
    appSecrets?: pulumi.Output<Record<string, string>>;
    /** Per pinned color: its own copy of the app secrets (the release helper copies them at prepare). */
    colorSecrets?: pulumi.Output<Record<Color, Record<string, string>>>;
    registryPassword?: pulumi.Output<string>;
}

export interface PortalArgs {
    config: PortalConfig;
    secrets: PortalSecrets;
}

export interface TrackOutputs {
    stage: Stage;
    servers: Record<string, ServerOutputs>;
}

export class Portal extends pulumi.ComponentResource {
    /** The main track's stage and per-server outputs (a single-track stack has only these). */
    readonly stage: Stage;
    readonly servers: Record<string, ServerOutputs> = {};
    /** The other tracks' stages and per-server outputs. */
    readonly tracks: Record<string, TrackOutputs> = {};
    /**
     * The steps after which the stack routes as configured: every server's recorded live switch
     * of every track, and every edge split. The `deployed` output waits for them, so a failed
     * or half-done `up` leaves the last complete state as the one the live guard reads.
     */
    readonly routed: pulumi.Resource[];

    /** `opts` plus, with a webhook, the failure notice's error hook on every step below the Portal. */
    private static options(args: PortalArgs, opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions | undefined {
        const hosts = [...args.config.servers.map((s) => s.name), ...(args.config.edge?.hosts.map((h) => h.name) ?? [])];
        const hook = failureNoticeHook(pulumi.getStack(), hosts, args.secrets.slackWebhook);
        if (hook === undefined) return opts;
        return { ...opts, transformations: [withErrorHook(hook), ...(opts?.transformations ?? [])] };
    }

    constructor(name: string, args: PortalArgs, opts?: pulumi.ComponentResourceOptions) {
        super("portal:index:Portal", name, {}, Portal.options(args, opts));
        const { config, secrets } = args;
        const plan = planRollout(config, { stack: pulumi.getStack(), notices: secrets.slackWebhook !== undefined, name });
        // Each color's own env (lib/model/rollout.ts colorEnv); colors are unique across tracks.
        const tracks = new Map(tracksOf(config).flatMap((t) => t.colors.map((c) => [c, t] as const)));
        const envs = new Map<Color, AppEnv>();
        const env = (color: Color): AppEnv => {
            if (!envs.has(color)) envs.set(color, appEnv(colorEnv(config, tracks.get(color)!, color), secrets));
            return envs.get(color)!;
        };
        const declared = declarePlan(plan, this, { config, secrets, env });
        this.routed = plan.routed.map((id) => declared.get(id)!);
        for (const track of plan.tracks) {
            if (track.main) Object.assign(this.servers, track.servers);
            else this.tracks[track.name] = { stage: track.stage, servers: track.servers };
        }
        this.stage = plan.tracks.find((t) => t.main)!.stage;
        this.registerOutputs({ stage: this.stage, servers: this.servers, tracks: this.tracks });
    }
}
