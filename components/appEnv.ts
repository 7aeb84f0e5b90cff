// A color's environment for its containers, its env file and its migrator: its plain env
// plus its secrets (lib/model/rollout.ts colorEnv says which). With secrets the result is a secret
// Output, so it is encrypted in state and masked in previews.

import * as pulumi from "@pulumi/pulumi";
import { envLines, secretsOf, type ColorEnv } from "../lib/model/rollout";
import type { Color } from "../lib/config/config";

export interface AppEnv {
    /** KEY=VALUE strings for docker.Container envs. */
    envs: pulumi.Input<string[]>;
    /** The same lines joined for an env file fed on stdin. */
    envFile: pulumi.Input<string>;
}

/** The stack's two secret keys as the program reads them (absent: not set). */
export interface AppSecrets {
    appSecrets?: pulumi.Output<Record<string, string>>;
    colorSecrets?: pulumi.Output<Record<Color, Record<string, string>>>;
}

export function appEnv(color: ColorEnv, secrets: AppSecrets): AppEnv {
    const from = color.secrets;
    const source: pulumi.Output<unknown> | undefined = from.key === "appSecrets" ? secrets.appSecrets : secrets.colorSecrets;
    // A color with no secret names runs a plain env, so the secret key of another color
    // (or the shared one) never turns its inputs secret.
    const envs: pulumi.Input<string[]> = source && color.secretNames.length > 0
        ? source.apply((values) => envLines(color.env, secretsOf(from, { [from.key]: values })))
        : envLines(color.env, {});
    const envFile = pulumi.output(envs).apply((lines) => lines.map((l) => `${l}\n`).join(""));
    return { envs, envFile };
}
