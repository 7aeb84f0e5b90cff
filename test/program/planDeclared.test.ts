// The program declares exactly the rollout plan (lib/plan/rollout.ts), on the mock runtime:
// one resource per planned component and step, nothing else, each with the plan's name,
// type, parent, dependsOn, provider and protect, and the plan's command line, stdin and
// triggers (every Ref resolved to the value the engine would hand over). With this, the
// pure tests of the plan (test/lib/rolloutPlan.test.ts) speak for the declared resources.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { evaluate, type DeclaredResource, type Evaluation, type StackConfig } from "../../offline/evaluate";
import { plain } from "../../harness/declaredRun";
import { commandLine, type Arg, type Ref, type RolloutPlan, type Step } from "../../lib/plan/plan";
import { planRollout, saltedRouteContent } from "../../lib/plan/rollout";
import { appSecrets, loadStack, modelOf, productionWithSite, steadyBlue, withMode, withRelease, withTracks } from "../support/stacks";

const SECRETS = { ...appSecrets({ API_TOKEN: "t0k" }), "portal:slackWebhook": "https://hooks.slack.example/T000/B000/XXXX" };

function sticky(config: StackConfig): StackConfig {
    const copy = structuredClone(config);
    copy["portal:nginx"] = { ...(copy["portal:nginx"] as Record<string, unknown>), canary: { mode: "sticky" } };
    return withRelease(copy, { tags: { green: "2020.08.07-1" }, passive: "green", canary: 5 });
}

function mutable(): StackConfig {
    const config = withRelease(loadStack("production"), { tags: { green: "latest" }, passive: "green" });
    (config["portal:release"] as Record<string, unknown>).pulled = { green: "20201201-143000" };
    return { ...config, "portal:mutableTags": ["latest"] };
}

const STACKS: Record<string, [StackConfig, Record<string, unknown>]> = {
    "production, prepared, with secrets and notices": [withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" }), SECRETS],
    "production, no secrets": [loadStack("production"), {}],
    "two tracks and an edge, reload mode": [withMode(withTracks(productionWithSite()), "reload"), SECRETS],
    "two tracks and an edge, lua mode": [withMode(withTracks(productionWithSite()), "lua"), {}],
    "sticky canary": [sticky(loadStack("production")), SECRETS],
    "mutable tag": [mutable(), {}],
    local: [loadStack("local"), {}],
};

const TYPES: Record<Exclude<Step["kind"], "command">, string> = {
    upload: "command:remote:CopyToRemote",
    dockerProvider: "pulumi:providers:docker",
    image: "docker:index/remoteImage:RemoteImage",
    container: "docker:index/container:Container",
    local: "command:local:Command",
    notice: "command:local:Command",
    salt: "random:index/randomId:RandomId",
};

const sha = (text: string) => `stdin sha256 ${createHash("sha256").update(text).digest("hex")}`;

function check(plan: RolloutPlan, evaluation: Evaluation, target: string): number {
    const byName = new Map<string, DeclaredResource>();
    for (const r of evaluation.resources.values()) {
        assert.ok(!byName.has(r.name), `two resources named ${r.name}`);
        byName.set(r.name, r);
    }
    const nameOfUrn = new Map([...evaluation.resources.values()].map((r) => [r.urn, r.name]));
    const get = (name: string) => {
        const r = byName.get(name);
        assert.ok(r, `the plan's ${name} is not declared`);
        return r;
    };
    const planned = [...plan.components.map((c) => c.id), ...plan.steps.map((s) => s.id)];
    assert.deepEqual([...byName.keys()].sort(), planned.sort(), "declared resources = planned components and steps");

    for (const c of plan.components) {
        const r = get(c.id);
        assert.equal(r.type, `portal:index:${c.kind}`);
        assert.equal(r.parent && nameOfUrn.get(r.parent), c.parent, `${c.id}'s parent`);
    }
    const value = (ref: Ref): string => {
        switch (ref.ref) {
            case "stdout":
                return String(get(ref.step).outputs.stdout).trim();
            case "imageId":
                return String(get(ref.step).outputs.imageId);
            case "containerId":
                return get(ref.step).id;
            default:
                throw new Error(`no plain value for ${ref.ref}`);
        }
    };
    const resolved = (a: Arg) => (typeof a === "string" ? a : value(a));
    for (const step of plan.steps) {
        const r = get(step.id);
        const what = `${step.id}:`;
        assert.equal(r.type, step.kind === "command" ? `command:${target === "local" ? "local" : "remote"}:Command` : TYPES[step.kind], `${what} type`);
        assert.equal(r.parent && nameOfUrn.get(r.parent), step.parent, `${what} parent`);
        assert.deepEqual(r.dependsOn.map((u) => nameOfUrn.get(u)).sort(), [...step.waitsFor].sort(), `${what} dependsOn`);
        const inputs = plain(r.inputs) as Record<string, unknown>;
        switch (step.kind) {
            case "command": {
                const create = commandLine(step.argv, value);
                assert.equal(inputs.create, create, `${what} command line`);
                assert.equal(inputs.update, "true", `${what} no-op update`);
                const host = plan.hosts.find((h) => h.name === step.host)!;
                if (target !== "local") assert.equal((inputs.connection as { host: string }).host, host.address, `${what} ssh host`);
                assert.equal(inputs.delete, undefined, `${what} has no delete`);
                const stdin = step.stdin;
                if (typeof stdin === "string") assert.equal(inputs.stdin, stdin, `${what} stdin`);
                else if (stdin !== undefined && "salted" in stdin) {
                    assert.equal(inputs.stdin, saltedRouteContent(modelOf(STACK_CONFIG), stdin.salted, String(get(stdin.salted.salt).outputs.hex)), `${what} salted route`);
                } else if (stdin !== undefined) assert.equal(typeof inputs.stdin, "string", `${what} stdin from ${stdin.ref}`);
                else assert.equal(inputs.stdin, undefined, `${what} no stdin`);
                const own = (step.triggers ?? []).map((t) => (typeof t === "object" && t.ref === "scripts" ? inputs.triggers && (inputs.triggers as unknown[]).at(-1) : resolved(t)));
                const byStdin = stdin === undefined || step.rerunOnStdin === false ? [] : [sha(String(inputs.stdin))];
                assert.deepEqual(inputs.triggers, [create, ...byStdin, ...own], `${what} triggers`);
                assert.equal(inputs.logging, step.logging ?? "stderr", `${what} logging`);
                for (const out of ["stdout", "stderr"]) assert.ok(r.additionalSecretOutputs.includes(out), `${what} ${out} is a secret output`);
                break;
            }
            case "upload":
                assert.equal(inputs.remotePath, step.remotePath);
                assert.equal((inputs.connection as { host: string }).host, plan.hosts.find((h) => h.name === step.host)!.address, `${what} ssh host`);
                break;
            case "dockerProvider":
                assert.equal(inputs.host, step.address);
                assert.deepEqual(inputs.sshOpts === undefined ? undefined : JSON.parse(String(inputs.sshOpts)), step.sshOpts);
                break;
            case "image":
                assert.deepEqual(inputs, { name: step.image, keepLocally: true, ...(step.pullTriggers ? { pullTriggers: step.pullTriggers } : {}) }, `${what} inputs`);
                assert.equal(nameOfUrn.get(r.provider!), step.provider, `${what} provider`);
                break;
            case "container": {
                const { image, envs, ...rest } = inputs;
                assert.deepEqual(rest, step.inputs, `${what} inputs`);
                assert.equal(image, value(step.image), `${what} image`);
                assert.equal(envs === undefined, step.envs === undefined, `${what} envs`);
                assert.equal(nameOfUrn.get(r.provider!), step.provider, `${what} provider`);
                assert.equal(r.protect, step.protect === true, `${what} protect`);
                assert.equal(r.deleteBeforeReplace, true, `${what} deleteBeforeReplace`);
                break;
            }
            case "local":
                assert.deepEqual(inputs, { create: commandLine(step.argv, value), triggers: step.triggers }, `${what} inputs`);
                break;
            case "notice":
                assert.ok(String(inputs.create).includes(step.message.split("\n")[0]!.slice(0, 20)), `${what} message`);
                break;
            case "salt":
                assert.deepEqual(inputs, { byteLength: step.byteLength, keepers: step.keepers }, `${what} inputs`);
                break;
        }
    }
    return plan.steps.length;
}

let STACK_CONFIG: StackConfig = {};

describe("the program declares exactly the rollout plan (mock runtime)", function () {
    this.timeout(60000);
    for (const [name, [config, secrets]] of Object.entries(STACKS)) {
        it(name, async () => {
            STACK_CONFIG = config;
            const model = modelOf(config, secrets);
            const plan = planRollout(model, { stack: "test", notices: "portal:slackWebhook" in secrets });
            const steps = check(plan, await evaluate(config, secrets), model.target);
            assert.ok(steps > 20, `only ${steps} steps`);
        });
    }
});
