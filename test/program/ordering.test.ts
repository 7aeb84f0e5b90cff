// The order of the rollout, read from the dependsOn/parent options captured by the
// transformations hook: each assertion fails if its step or its dependency is removed.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { evaluate, type DeclaredResource, type Evaluation } from "../../offline/evaluate";
import { nameOf } from "../../offline/diff";
import { steadyBlue, withRelease } from "../support/stacks";

const SECRETS = { "portal:slackWebhook": "https://hooks.slack.example/T000/B000/XXXX" };
const SERVERS = ["web1", "web2", "web3"];

class Graph {
    private readonly byName = new Map<string, DeclaredResource>();
    private readonly urnToName = new Map<string, string>();

    constructor(readonly evaluation: Evaluation) {
        for (const r of evaluation.resources.values()) {
            this.byName.set(r.name, r);
            this.urnToName.set(r.urn, r.name);
        }
    }

    get(name: string): DeclaredResource {
        const r = this.byName.get(name);
        assert.ok(r, `no resource named ${name}`);
        return r;
    }

    has(name: string): boolean {
        return this.byName.has(name);
    }

    /** Every resource `name` waits for, directly or through others. */
    after(name: string): Set<string> {
        const seen = new Set<string>();
        const stack = [name];
        while (stack.length) {
            for (const dep of this.get(stack.pop()!).dependsOn) {
                const depName = this.urnToName.get(dep)!;
                if (!seen.has(depName)) {
                    seen.add(depName);
                    stack.push(depName);
                }
            }
        }
        return seen;
    }

    assertAfter(name: string, ...earlier: string[]): void {
        const deps = this.after(name);
        for (const e of earlier) assert.ok(deps.has(e), `${name} must run after ${e}; it waits for: ${[...deps].join(", ")}`);
    }

    parentName(name: string): string | undefined {
        const parent = this.get(name).parent;
        return parent ? nameOf(parent) : undefined;
    }

    names(): string[] {
        return [...this.byName.keys()];
    }
}

describe("rollout order and placement (mock runtime, production stack)", function () {
    this.timeout(60000);
    let prepared: Graph;
    let canary: Graph;

    before(async () => {
        const config = withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" });
        prepared = new Graph(await evaluate(config, SECRETS));
        canary = new Graph(await evaluate(withRelease(config, { canary: 0.5 }), SECRETS));
    });

    it("migrates on the primary only, after every server has pulled the image", () => {
        const migrations = prepared.names().filter((n) => n.endsWith("-migrate")).sort();
        assert.deepEqual(migrations, ["web1-blue-migrate", "web1-green-migrate"]);
        assert.equal((prepared.get("web1-green-migrate").inputs.connection as { value: { host: string } }).value.host, "10.0.0.11");
        prepared.assertAfter("web1-green-migrate", "web1-green-image", "web2-green-image", "web3-green-image", "web1-scripts");
    });

    it("gates every server's new container on the primary's migration (cross-server)", () => {
        for (const s of SERVERS) prepared.assertAfter(`${s}-green-container`, "web1-green-migrate");
    });

    it("prepare: container, health wait, passive switch, notice, in that order on each server", () => {
        for (const s of SERVERS) {
            prepared.assertAfter(`${s}-green-healthy`, `${s}-green-container`, `${s}-scripts`);
            prepared.assertAfter(`${s}-route-passive`, `${s}-green-healthy`, `${s}-upstreams`);
            prepared.assertAfter("portal-notify-prepared", `${s}-route-passive`);
            assert.ok(!prepared.after(`${s}-route-passive`).has(`${s}-route-live`), "the passive switch must not wait on the live one");
        }
    });

    it("deploy: re-check, compose symlink, live switch, live-color file, workers, notice, in that order", () => {
        for (const s of SERVERS) {
            prepared.assertAfter(`${s}-live-healthy`, `${s}-blue-healthy`);
            prepared.assertAfter(`${s}-compose-symlink`, `${s}-live-healthy`, `${s}-compose`);
            prepared.assertAfter(`${s}-route-live`, `${s}-compose-symlink`, `${s}-live-healthy`, `${s}-upstreams`);
            prepared.assertAfter(`${s}-record-live`, `${s}-route-live`);
            prepared.assertAfter("portal-notify-live", `${s}-record-live`);
        }
        for (const w of ["web1-djobs", "web1-cron", "web3-djobs"]) prepared.assertAfter(w, `${w.split("-")[0]}-record-live`);
        prepared.assertAfter("portal-notify-live", "web1-djobs", "web1-cron", "web3-djobs");
    });

    it("a canary waits for the passive color to be healthy and routed before it takes live traffic", () => {
        for (const s of SERVERS) canary.assertAfter(`${s}-route-live`, `${s}-green-healthy`, `${s}-route-passive`);
    });

    it("protects the containers serving live traffic: the live color, and the passive one while it has a canary", () => {
        for (const s of SERVERS) {
            assert.equal(prepared.get(`${s}-blue-container`).protect, true);
            assert.equal(prepared.get(`${s}-green-container`).protect, false);
            assert.equal(canary.get(`${s}-green-container`).protect, true);
        }
    });

    it("parents every resource to its server's component, and the servers to the portal", () => {
        for (const s of SERVERS) assert.equal(prepared.parentName(s), "portal");
        for (const name of prepared.names()) {
            const server = SERVERS.find((s) => name.startsWith(`${s}-`));
            if (!server) continue;
            let parent = prepared.parentName(name);
            while (parent && parent !== server) parent = prepared.parentName(parent);
            assert.equal(parent, server, `${name} is not inside server ${server}`);
        }
    });

    it("uses one docker provider per server, over ssh", () => {
        for (const s of SERVERS) {
            const host = { web1: "10.0.0.11", web2: "10.0.0.12", web3: "10.0.0.13" }[s];
            assert.deepEqual(prepared.get(`${s}-docker`).inputs, { host: `ssh://deploy@${host}:22`, sshOpts: JSON.stringify(["-o", "BatchMode=yes"]) });
        }
    });

    it("keeps every pulled image when its resource goes, so a tag shared by both colors is never removed", () => {
        for (const s of SERVERS) {
            for (const c of ["blue", "green"]) assert.equal(prepared.get(`${s}-${c}-image`).inputs.keepLocally, true);
        }
    });

    it("gives no command a delete step: replacing or removing a step never undoes a switch", () => {
        const commands = [...prepared.evaluation.resources.values()].filter((r) => r.type.startsWith("command:"));
        assert.ok(commands.length > 40);
        for (const c of commands) assert.equal(c.inputs.delete, undefined, `${c.name} has a delete command`);
    });

    it("exports the stage and, per server, the colors, tags and live-color file", () => {
        assert.equal(prepared.evaluation.outputs.stage, "prepared");
        assert.deepEqual(prepared.evaluation.outputs.servers.web2, {
            live: "blue",
            passive: "green",
            liveTag: "2020.08.06-1",
            passiveTag: "2020.08.07-1",
            liveColorFile: "/srv/portal/live-color",
        });
        assert.deepEqual(Object.keys(prepared.evaluation.outputs.servers), SERVERS);
    });

    it("a migration runs again when its image or its color's env changes: both are triggers, no ignoreChanges keeps the env stale", () => {
        const migrate = prepared.get("web1-green-migrate");
        assert.deepEqual(migrate.ignoreChanges, []);
        const stdin = `stdin sha256 ${createHash("sha256").update(String(migrate.inputs.stdin)).digest("hex")}`;
        assert.deepEqual(migrate.inputs.triggers, [migrate.inputs.create, stdin]);
        assert.equal(migrate.inputs.update, "true");
    });
});
