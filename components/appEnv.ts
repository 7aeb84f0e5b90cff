// The app's environment for containers and the migrator: plain `portal:app.env` plus the
// secret `portal:appSecrets`. With secrets present the result is a secret Output, so it
// is encrypted in state and masked in previews.

import * as pulumi from "@pulumi/pulumi";

export interface AppEnv {
    /** KEY=VALUE strings for docker.Container envs. */
    envs: pulumi.Input<string[]>;
    /** The same lines joined for an env file fed on stdin. */
    envFile: pulumi.Input<string>;
}

export function appEnv(env: Record<string, string>, secrets?: pulumi.Output<Record<string, string>>): AppEnv {
    const plain = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const envs: pulumi.Input<string[]> = secrets ? secrets.apply((s) => [...plain, ...Object.entries(s).map(([k, v]) => `${k}=${v}`)]) : plain;
    const envFile = pulumi.output(envs).apply((lines) => lines.map((l) => `${l}\n`).join(""));
    return { envs, envFile };
}
