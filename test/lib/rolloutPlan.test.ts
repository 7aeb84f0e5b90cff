// The order of the rollout, on the plan itself (lib/plan/rollout.ts): pure, no Pulumi. Each
// assertion fails if its step or its dependency is removed. test/program/planDeclared.test.ts
// shows the program declares exactly this plan.

import assert from "node:assert/strict";
import { enclosing, hostSteps, stepOf, waitsOn, type RolloutPlan } from "../../lib/plan/plan";
import { planRollout, type PortalPlan } from "../../lib/plan/rollout";
import { modelOf, productionWithSite, steadyBlue, withMode, withRelease, withTracks } from "../support/stacks";
import { ROUTE_MODE_NAMES } from "../../lib/nginx/routeModes";

const SERVERS = ["web1", "web2", "web3"];

function planOf(config: Record<string, unknown>, notices = true): PortalPlan {
    return planRollout(modelOf(config), { stack: "test", notices });
}

function assertAfter(plan: RolloutPlan, id: string, ...earlier: string[]): void {
    const deps = waitsOn(plan, id);
    for (const e of earlier) assert.ok(deps.has(e), `${id} must run after ${e}; it waits for: ${[...deps].join(", ")}`);
}

describe("the rollout plan (pure, production stack)", () => {
    const config = withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" });
    const prepared = planOf(config);
    const canary = planOf(withRelease(config, { canary: 0.5 }));
    const ids = prepared.steps.map((s) => s.id);

    it("plans every step after every step it waits for, each id once", () => {
        const seen = new Set<string>();
        for (const step of prepared.steps) {
            for (const dep of step.waitsFor) assert.ok(seen.has(dep), `${step.id} waits for ${dep}, planned after it`);
            assert.ok(!seen.has(step.id), `${step.id} twice`);
            seen.add(step.id);
        }
        const components = prepared.components.map((c) => c.id);
        assert.deepEqual(components.filter((c) => seen.has(c)), [], "a component and a step share a name");
    });

    it("migrates on the primary only, after every server has pulled the image", () => {
        assert.deepEqual(ids.filter((n) => n.endsWith("-migrate")).sort(), ["web1-blue-migrate", "web1-green-migrate"]);
        assert.equal(stepOf(prepared, "web1-green-migrate", "command").host, "web1");
        assertAfter(prepared, "web1-green-migrate", "web1-green-image", "web2-green-image", "web3-green-image", "web1-scripts");
    });

    it("gates every server's new container on the primary's migration (cross-server)", () => {
        for (const s of SERVERS) assertAfter(prepared, `${s}-green-container`, "web1-green-migrate");
    });

    it("gates every host's first change on every host's preflight", () => {
        for (const s of SERVERS) assertAfter(prepared, `${s}-setup`, ...SERVERS.map((h) => `${h}-preflight`));
        for (const s of SERVERS) assert.deepEqual(stepOf(prepared, `${s}-preflight`).waitsFor, []);
    });

    it("prepare: container, health wait, passive switch, notice, in that order on each server", () => {
        for (const s of SERVERS) {
            assertAfter(prepared, `${s}-green-healthy`, `${s}-green-container`, `${s}-scripts`);
            assertAfter(prepared, `${s}-route-passive`, `${s}-green-healthy`, `${s}-upstreams`);
            assertAfter(prepared, "portal-notify-prepared", `${s}-route-passive`);
            assert.ok(!waitsOn(prepared, `${s}-route-passive`).has(`${s}-route-live`), "the passive switch must not wait on the live one");
        }
    });

    it("deploy: re-check, compose symlink, live switch, live-color file, workers, prune, notice, in that order", () => {
        for (const s of SERVERS) {
            assertAfter(prepared, `${s}-live-healthy`, `${s}-blue-healthy`);
            assertAfter(prepared, `${s}-compose-symlink`, `${s}-live-healthy`, `${s}-compose`);
            assertAfter(prepared, `${s}-route-live`, `${s}-compose-symlink`, `${s}-live-healthy`, `${s}-upstreams`);
            assertAfter(prepared, `${s}-record-live`, `${s}-route-live`);
            assertAfter(prepared, `${s}-prune`, `${s}-record-live`);
            assertAfter(prepared, "portal-notify-live", `${s}-record-live`);
        }
        for (const w of ["web1-djobs", "web1-cron", "web3-djobs"]) {
            assertAfter(prepared, w, `${w.split("-")[0]}-record-live`);
            assertAfter(prepared, `${w.split("-")[0]}-prune`, w);
        }
        assertAfter(prepared, "portal-notify-live", "web1-djobs", "web1-cron", "web3-djobs");
    });

    it("a canary waits for the passive color to be healthy and routed before it takes live traffic", () => {
        for (const s of SERVERS) assertAfter(canary, `${s}-route-live`, `${s}-green-healthy`, `${s}-route-passive`);
        for (const s of SERVERS) assert.ok(!waitsOn(prepared, `${s}-route-live`).has(`${s}-route-passive`), "without a canary the live switch does not wait on the passive one");
    });

    it("protects the containers serving live traffic: the live color, and the passive one while it has a canary", () => {
        for (const s of SERVERS) {
            assert.equal(stepOf(prepared, `${s}-blue-container`, "container").protect, true);
            assert.equal(stepOf(prepared, `${s}-green-container`, "container").protect, false);
            assert.equal(stepOf(canary, `${s}-green-container`, "container").protect, true);
        }
    });

    it("places every step of a server inside that server's component, and the servers in the portal", () => {
        for (const s of SERVERS) assert.deepEqual(enclosing(prepared, s), ["portal"]);
        for (const s of SERVERS) {
            for (const step of hostSteps(prepared, s)) assert.equal(enclosing(prepared, step.id).at(-2), s, `${step.id} is not inside server ${s}`);
        }
        assert.deepEqual(enclosing(prepared, "web2-route-live"), ["web2-promotion", "web2", "portal"]);
        assert.deepEqual(enclosing(prepared, "web1-green-migrate"), ["web1-green-migration", "web1", "portal"]);
    });

    it("runs every image and container on its own server's docker provider, over ssh", () => {
        for (const s of SERVERS) {
            const host = { web1: "10.0.0.11", web2: "10.0.0.12", web3: "10.0.0.13" }[s];
            assert.deepEqual(stepOf(prepared, `${s}-docker`, "dockerProvider"), { kind: "dockerProvider", id: `${s}-docker`, host: s, parent: s, waitsFor: [], address: `ssh://deploy@${host}:22`, sshOpts: ["-o", "BatchMode=yes"] });
            for (const step of hostSteps(prepared, s)) if (step.kind === "image" || step.kind === "container") assert.equal(step.provider, `${s}-docker`);
        }
    });

    it("notices only with a webhook", () => {
        assert.deepEqual(planOf(config, false).steps.filter((s) => s.kind === "notice"), []);
        assert.deepEqual(prepared.steps.filter((s) => s.kind === "notice").map((s) => s.id), ["portal-notify-prepared", "portal-notify-live"]);
    });

    it("states per server what it serves after the plan", () => {
        const main = prepared.tracks.find((t) => t.main)!;
        assert.equal(main.stage, "prepared");
        assert.deepEqual(main.servers.web2, { live: "blue", passive: "green", liveTag: "2020.08.06-1", passiveTag: "2020.08.07-1", liveColorFile: "/srv/portal/live-color" });
        assert.deepEqual(Object.keys(main.servers), SERVERS);
        assert.deepEqual(prepared.routed, SERVERS.map((s) => `${s}-record-live`));
    });
});

for (const mode of ROUTE_MODE_NAMES) {
    describe(`the rollout plan with a second track and an edge, ${mode} mode (pure)`, () => {
        const plan = planOf(withMode(withTracks(productionWithSite()), mode));

        it("routes the edge only after every server's live switch of both tracks, and after its own files", () => {
            const route = stepOf(plan, "lb1-edge-route");
            for (const s of SERVERS) for (const id of [`${s}-record-live`, `${s}-py3-record-live`]) assert.ok(route.waitsFor.includes(id), `lb1-edge-route waits for ${id}`);
            assertAfter(plan, "lb1-edge-route", "lb1-edge-site", "lb1-edge-upstreams", "lb1-scripts", ...SERVERS.map((s) => `${s}-preflight`));
            assert.deepEqual(plan.routed.slice(-1), ["lb1-edge-route"]);
        });

        it("writes a track's nginx files after the main track's last one (its listeners use the router's variables)", () => {
            for (const s of SERVERS) {
                const first = stepOf(plan, mode === "reload" ? `${s}-py3-routes-init` : `${s}-py3-upstreams`);
                assert.ok(first.waitsFor.includes(`${s}-site`), `${first.id} waits for ${s}-site: ${first.waitsFor.join(", ")}`);
            }
        });

        it("a track's steps are scoped by its name and sit in its own components", () => {
            assert.deepEqual(enclosing(plan, "web1-py3-route-live"), ["web1-py3-promotion", "web1", "portal"]);
            assert.deepEqual(enclosing(plan, "web1-red-container"), ["web1-red", "web1", "portal"]);
            assert.ok(plan.steps.some((s) => s.id === "portal-py3-release-stamp"));
        });
    });
}

describe("the rollout plan as data: a rolling switch is a transformation of it (pure)", () => {
    /** Live switches `size` servers at a time: each server's live switch also waits for the live record of the server `size` before it. */
    function rolling(plan: RolloutPlan, servers: readonly string[], size: number): RolloutPlan {
        const extra = new Map(servers.slice(size).map((s, i) => [`${s}-route-live`, `${servers[i]}-record-live`]));
        return { ...plan, steps: plan.steps.map((s) => (extra.has(s.id) ? { ...s, waitsFor: [...s.waitsFor, extra.get(s.id)!] } : s)) };
    }
    const plan = planOf(withRelease(steadyBlue(), { live: "green", passive: "green", tags: { green: "2020.08.07-1" } }));

    it("one server at a time: web2 switches after web1 recorded its switch, web3 after web2; the plan stays in order", () => {
        const one = rolling(plan, SERVERS, 1);
        assertAfter(one, "web2-route-live", "web1-record-live");
        assertAfter(one, "web3-route-live", "web2-record-live", "web1-record-live");
        assert.ok(!waitsOn(plan, "web2-route-live").has("web1-record-live"), "the plain plan switches every server at once");
        const seen = new Set<string>();
        for (const step of one.steps) {
            for (const dep of step.waitsFor) assert.ok(seen.has(dep), `${step.id} waits for ${dep}, planned after it`);
            seen.add(step.id);
        }
    });

    it("two at a time: web1 and web2 together, web3 after web1", () => {
        const two = rolling(plan, SERVERS, 2);
        assert.ok(!waitsOn(two, "web2-route-live").has("web1-record-live"));
        assertAfter(two, "web3-route-live", "web1-record-live");
    });
});
