// What each provider does with a changed input, read from the providers' source at the
// pinned versions: which inputs force a replacement, whether a replacement deletes first,
// and what an update runs. The engine model (engine.ts) only reads this table, so a
// resource input or option added to the components is modelled without code changes;
// an input the table does not know is reported, never guessed.

import * as fs from "node:fs";
import * as path from "node:path";

export interface ResourceRule {
    /** Where the rule was read (repo@version:file). */
    source: string;
    /** Inputs whose change makes the provider ask for a replacement. */
    replaceOn: readonly string[];
    /** Inputs the provider updates in place. */
    updateOn: readonly string[] | "all others";
    /** The provider's own deleteBeforeReplace (the resource option overrides it). */
    deleteBeforeReplace: boolean;
    /** What an in-place update does, for the preview line. */
    updateNote?: string;
}

/**
 * docker_container's top-level ForceNew fields (kreuzwerker/terraform-provider-docker,
 * internal/provider/resource_docker_container.go, `ForceNew: true` on the field), named as
 * @pulumi/docker names them (its schema.json: env -> envs, upload -> uploads, ...).
 */
const CONTAINER_FORCE_NEW_V3_9_0 = [
    "capabilities", "cgroupParent", "cgroupnsMode", "command", "cpus", "devices", "dns", "dnsOpts", "dnsSearches", "domainname",
    "entrypoints", "envs", "gpus", "groupAdds", "hostname", "hosts", "image", "ipcMode", "labels", "logDriver", "logOpts", "mounts",
    "name", "networkMode", "networksAdvanced", "pidMode", "ports", "privileged", "publishAllPorts", "readOnly", "runtime",
    "securityOpts", "shmSize", "stdinOpen", "stopSignal", "stopTimeout", "storageOpts", "sysctls", "tty", "ulimits", "uploads",
    "user", "usernsMode", "volumes", "workingDir",
];
const CONTAINER_UPDATE_V3_9_0 = [
    "attach", "containerReadRefreshTimeoutMilliseconds", "cpuPeriod", "cpuQuota", "cpuSet", "cpuShares", "destroyGraceSeconds",
    "healthcheck", "init", "logs", "maxRetryCount", "memory", "memoryReservation", "memorySwap", "mustRun", "removeVolumes",
    "restart", "rm", "start", "tmpfs", "wait", "waitTimeout",
];
/** v4.2.0 adds deviceRequests and platform (ForceNew) and the device I/O limits (updatable). */
const CONTAINER_FORCE_NEW_V4_2_0 = [...CONTAINER_FORCE_NEW_V3_9_0, "deviceRequests", "platform"].sort();
const CONTAINER_UPDATE_V4_2_0 = [...CONTAINER_UPDATE_V3_9_0, "deviceReadBps", "deviceReadIops", "deviceWriteBps", "deviceWriteIops"].sort();

/** docker_image (RemoteImage): name, pull_triggers, build, triggers, platform are ForceNew; same at v3.9.0 and v4.2.0. */
const IMAGE_FORCE_NEW = ["name", "pullTriggers", "build", "triggers", "platform"];
const IMAGE_UPDATE = ["keepLocally", "forceRemove"];

/** @pulumi/docker version -> the upstream provider it wraps. */
const DOCKER_VERSIONS: Record<string, { upstream: string; bridge: string; forceNew: string[]; update: string[] }> = {
    // pulumi/pulumi-docker@v4.11.2 wraps kreuzwerker v3.9.0 (provider/go.mod, upstream submodule), bridge v3.125.0.
    "4.11.2": { upstream: "kreuzwerker/terraform-provider-docker@v3.9.0", bridge: "v3.125.0", forceNew: CONTAINER_FORCE_NEW_V3_9_0, update: CONTAINER_UPDATE_V3_9_0 },
    // pulumi/pulumi-docker@v5.0.0 wraps kreuzwerker v4.2.0, bridge v3.126.0.
    "5.0.0": { upstream: "kreuzwerker/terraform-provider-docker@v4.2.0", bridge: "v3.126.0", forceNew: CONTAINER_FORCE_NEW_V4_2_0, update: CONTAINER_UPDATE_V4_2_0 },
};

const COMMAND_VERSIONS = ["1.2.1"];

/**
 * random_id: every input replaces (keepers: RequiresReplaceIfValuesNotNull, byte_length and
 * prefix: RequiresReplace). Read in hashicorp/terraform-provider-random
 * internal/provider/resource_id.go, identical at v3.7.2, v3.8.1 and v3.9.0; which of these
 * @pulumi/random 4.21.2 carries was not checked (no pulumi-random source here).
 */
const RANDOM_VERSIONS = ["4.21.2"];
const RANDOM_ID_RULE: ResourceRule = {
    source: "hashicorp/terraform-provider-random@v3.7.2..v3.9.0:internal/provider/resource_id.go",
    replaceOn: ["keepers", "byteLength", "prefix"],
    updateOn: [],
    deleteBeforeReplace: false,
};

/**
 * pulumi-command v1.2.1 is an `infer` provider without a custom Diff: a field tagged
 * `provider:"replaceOnChanges"` replaces, any other changed input updates
 * (provider/pkg/provider/common/inputs.go: only `triggers` is tagged; remote/copy.go the
 * same for CopyToRemote). An update runs `update` if set, else `create` again
 * (remote/commandController.go and local/commandController.go `Update`).
 */
function commandRules(version: string): Record<string, ResourceRule> {
    const source = `pulumi/pulumi-command@v${version}:provider/pkg/provider/common/inputs.go, remote/commandController.go`;
    const command: ResourceRule = { source, replaceOn: ["triggers"], updateOn: "all others", deleteBeforeReplace: false, updateNote: "runs update if set, else create again" };
    return {
        "command:remote:Command": command,
        "command:local:Command": command,
        "command:remote:CopyToRemote": {
            source: `pulumi/pulumi-command@v${version}:provider/pkg/provider/remote/copy.go, copyController.go:148`,
            replaceOn: ["triggers"],
            updateOn: "all others",
            deleteBeforeReplace: false,
            updateNote: "copies again when the source's hash or remotePath changed",
        },
    };
}

function installedVersion(pkg: string, root: string): string {
    const file = path.join(root, "node_modules", pkg, "package.json");
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

export interface ProviderRules {
    versions: Record<string, string>;
    rules: Record<string, ResourceRule>;
}

/** The rules for the provider versions installed in `root`; refuses a version it has not read. */
export function providerRules(root = path.resolve(__dirname, "..")): ProviderRules {
    const docker = installedVersion("@pulumi/docker", root);
    const command = installedVersion("@pulumi/command", root);
    const pulumi = installedVersion("@pulumi/pulumi", root);
    const random = installedVersion("@pulumi/random", root);
    const table = DOCKER_VERSIONS[docker];
    if (table === undefined) {
        throw new Error(`the offline preview has no rules for @pulumi/docker ${docker} (read: ${Object.keys(DOCKER_VERSIONS).join(", ")}); read its upstream provider's ForceNew fields into offline/providerRules.ts`);
    }
    if (!RANDOM_VERSIONS.includes(random)) {
        throw new Error(`the offline preview has no rules for @pulumi/random ${random} (read: ${RANDOM_VERSIONS.join(", ")}); re-read random_id's plan modifiers into offline/providerRules.ts`);
    }
    if (!COMMAND_VERSIONS.includes(command)) {
        throw new Error(`the offline preview has no rules for @pulumi/command ${command} (read: ${COMMAND_VERSIONS.join(", ")}); re-read its Diff into offline/providerRules.ts`);
    }
    const containerSource = `${table.upstream}:internal/provider/resource_docker_container.go (ForceNew); pulumi/pulumi-docker@v${docker}:provider/resources.go (DeleteBeforeReplace: true)`;
    return {
        versions: { "@pulumi/docker": docker, "@pulumi/command": command, "@pulumi/random": random, "@pulumi/pulumi": pulumi },
        rules: {
            "random:index/randomId:RandomId": RANDOM_ID_RULE,
            "docker:index/container:Container": { source: containerSource, replaceOn: table.forceNew, updateOn: table.update, deleteBeforeReplace: true },
            "docker:index/remoteImage:RemoteImage": {
                source: `${table.upstream}:internal/provider/resource_docker_image.go (ForceNew)`,
                replaceOn: IMAGE_FORCE_NEW,
                updateOn: IMAGE_UPDATE,
                deleteBeforeReplace: false,
            },
            ...commandRules(command),
            // The provider's own config (host, sshOpts, registryAuth): the bridge's DiffConfig replaces only for a
            // config field marked ForcesProviderReplace, and pulumi-docker marks none, so a change is an in-place
            // update; its resources keep the provider reference (URN and id), so they are not replaced for it
            // (pulumi/pulumi@v3.248.0 pkg/resource/deploy/step_generator.go:2624 providerChanged).
            "pulumi:providers:docker": {
                source: `pulumi/pulumi-terraform-bridge@${table.bridge}:pkg/tfbridge/provider.go:819-868 configDiffer; pulumi/pulumi-docker@v${docker}:provider/resources.go (no ForcesProviderReplace)`,
                replaceOn: [],
                updateOn: "all others",
                deleteBeforeReplace: false,
                updateNote: "provider configuration, updated in place: its resources are not replaced for it",
            },
        },
    };
}
