// The safety net for refactors, on every committed stack plus a two-track + edge stack:
// - every URN, as the engine forms it (offline/evaluate.ts engineUrns), is in a golden list:
//   a renamed type token, a renamed resource or a new parent layer changes URNs, and the
//   engine would then delete and re-create the resource (the live container included),
//   unless an `aliases` entry (a URN string) keeps the old one;
// - every docker resource goes through its own server's explicit provider;
// - every container carries the container policy (lib/plan/containerPolicy.ts) and the
//   live color's container is protected.
// Regenerate the golden list after an intended change: UPDATE_GOLDEN=1 npx mocha test/program/safetyNet.test.ts

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluate, type Evaluation, type StackConfig } from "../../offline/evaluate";
import { loadStack, productionWithSite, withTracks } from "../support/stacks";

const GOLDEN = path.join(__dirname, "golden", "urns.json");

export const SAFETY_NET_STACKS: Record<string, () => StackConfig> = {
    production: () => loadStack("production"),
    staging: () => loadStack("staging"),
    local: () => loadStack("local"),
    "production-tracks-edge": () => withTracks(productionWithSite()),
};

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const PROVIDER = "pulumi:providers:docker";

describe("safety net: URNs, providers and container options of every committed stack (mock runtime)", function () {
    this.timeout(120000);
    const evaluations: Record<string, Evaluation> = {};
    before(async () => {
        for (const [name, config] of Object.entries(SAFETY_NET_STACKS)) evaluations[name] = await evaluate(config());
        if (process.env.UPDATE_GOLDEN === "1") {
            const golden = Object.fromEntries(Object.entries(evaluations).map(([n, e]) => [n, [...e.resources.values()].map((r) => r.engineUrn).sort()]));
            fs.writeFileSync(GOLDEN, JSON.stringify(golden, null, 1) + "\n");
        }
    });

    for (const name of Object.keys(SAFETY_NET_STACKS)) {
        describe(name, () => {
            it("declares exactly the golden URNs (a missing one only when a resource keeps it as an alias)", () => {
                const golden: string[] = JSON.parse(fs.readFileSync(GOLDEN, "utf8"))[name];
                const resources = [...evaluations[name].resources.values()];
                const urns = new Set(resources.map((r) => r.engineUrn));
                const aliased = new Set(resources.flatMap((r) => r.aliases));
                const missing = golden.filter((u) => !urns.has(u) && !aliased.has(u));
                const added = [...urns].filter((u) => !golden.includes(u) && !resources.find((r) => r.engineUrn === u)!.aliases.some((a) => golden.includes(a)));
                assert.deepEqual({ missing, added }, { missing: [], added: [] }, "URNs changed: add an alias for a moved resource, or update the golden list if intended");
            });

            it("sends every docker resource through its own server's provider", () => {
                const e = evaluations[name];
                const docker = [...e.resources.values()].filter((r) => r.type === CONTAINER || r.type === IMAGE);
                assert.ok(docker.length > 0);
                for (const r of docker) {
                    assert.ok(r.provider, `${r.name} has no explicit provider (it would use the default one: the operator's local engine)`);
                    const provider = e.resources.get(r.provider!)!;
                    assert.equal(provider.type, PROVIDER, r.name);
                    // The provider is the Server's child, named <server>-docker; the resource hangs under that Server.
                    const server = provider.parent!;
                    assert.equal(e.resources.get(server)!.type, "portal:index:Server", r.name);
                    assert.equal(provider.name, `${e.resources.get(server)!.name}-docker`);
                    let ancestor = r.parent;
                    while (ancestor && ancestor !== server) ancestor = e.resources.get(ancestor)!.parent;
                    assert.equal(ancestor, server, `${r.name} goes through ${provider.name} but belongs to another server`);
                }
            });

            it("gives every container mustRun false, a grace period, removeVolumes false, no log options, delete-before-replace", () => {
                const containers = [...evaluations[name].resources.values()].filter((r) => r.type === CONTAINER);
                assert.ok(containers.length > 0);
                for (const c of containers) {
                    assert.equal(c.inputs.mustRun, false, `${c.name}: mustRun`);
                    assert.ok(typeof c.inputs.destroyGraceSeconds === "number" && c.inputs.destroyGraceSeconds > 0, `${c.name}: destroyGraceSeconds`);
                    assert.equal(c.inputs.removeVolumes, false, `${c.name}: removeVolumes`);
                    assert.equal(c.inputs.logOpts, undefined, `${c.name}: logOpts`);
                    assert.equal(c.inputs.logDriver, undefined, `${c.name}: logDriver`);
                    assert.equal(c.deleteBeforeReplace, true, `${c.name}: deleteBeforeReplace`);
                }
            });

            it("keeps every command's stdout and stderr secret in state and out of the log (but the release stamp's date)", () => {
                const commands = [...evaluations[name].resources.values()].filter((r) => r.type.startsWith("command:") && r.type.endsWith(":Command"));
                assert.ok(commands.length > 0);
                for (const c of commands) {
                    if (c.name.endsWith("release-stamp")) {
                        // Its stdout (a date) is part of the compose step's command line: a secret would mask it.
                        assert.deepEqual(c.additionalSecretOutputs, [], c.name);
                        continue;
                    }
                    // (The SDK adds `connection` to remote commands itself.)
                    assert.deepEqual(c.additionalSecretOutputs.filter((o) => o !== "connection"), ["stdout", "stderr"], c.name);
                    assert.ok(c.inputs.logging === "stderr" || c.inputs.logging === "none", `${c.name}: logging ${c.inputs.logging}`);
                    if (c.name.endsWith("-migrate")) assert.equal(c.inputs.logging, "none", c.name);
                }
            });

            it("protects the container of every color that serves live traffic", () => {
                const e = evaluations[name];
                for (const [server, out] of Object.entries(e.outputs.servers)) {
                    const live = [...e.resources.values()].find((r) => r.name === `${server}-${out.live}-container`)!;
                    assert.equal(live.protect, true, live.name);
                }
            });
        });
    }
});
