// The preflight step (mock runtime): its exact command and stdin per host, and every change
// on every host waiting for every host's preflight, so a missing prerequisite anywhere stops
// the rollout before any host is changed.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluate, type DeclaredResource, type Evaluation } from "../../offline/evaluate";
import { ConfigError, validateConfig } from "../../lib/config/config";
import { loadStack, productionWithSite, steadyBlue, withRelease, withTracks, REPO } from "../support/stacks";

const SECRETS = { "portal:slackWebhook": "https://hooks.slack.example/T000/B000/XXXX" };
const SCRIPT = fs.readFileSync(path.join(REPO, "scripts", "preflight.sh"), "utf8");

/** Waits-for edges: dependsOn, plus a container's implicit dependency on its image (an Output input). */
function waitsFor(evaluation: Evaluation): (name: string) => Set<string> {
    const byName = new Map<string, DeclaredResource>();
    const urnToName = new Map<string, string>();
    const imageByMockId = new Map<string, string>();
    for (const r of evaluation.resources.values()) {
        byName.set(r.name, r);
        urnToName.set(r.urn, r.name);
        if (r.type === "docker:index/remoteImage:RemoteImage") {
            // offline/evaluate.ts's mock gives an image the id sha256:<sha256 of JSON [resource name, image name]>.
            imageByMockId.set(`sha256:${createHash("sha256").update(JSON.stringify([r.name, r.inputs.name])).digest("hex")}`, r.name);
        }
    }
    const direct = (r: DeclaredResource): string[] => {
        const deps = r.dependsOn.map((u) => urnToName.get(u)!);
        const image = typeof r.inputs.image === "string" ? imageByMockId.get(r.inputs.image) : undefined;
        return image ? [...deps, image] : deps;
    };
    return (name) => {
        const seen = new Set<string>();
        const stack = [name];
        while (stack.length) {
            for (const dep of direct(byName.get(stack.pop()!)!)) {
                if (!seen.has(dep)) {
                    seen.add(dep);
                    stack.push(dep);
                }
            }
        }
        return seen;
    };
}

/** Resources that change a host: remote commands, uploads, images and containers (not providers, components, local commands). */
function hostChanges(evaluation: Evaluation): DeclaredResource[] {
    return [...evaluation.resources.values()].filter(
        (r) =>
            (r.type.startsWith("command:remote:") || r.type === "docker:index/container:Container" || r.type === "docker:index/remoteImage:RemoteImage") &&
            !r.name.endsWith("-preflight"),
    );
}

function byName(evaluation: Evaluation, name: string): DeclaredResource {
    const r = [...evaluation.resources.values()].find((x) => x.name === name);
    assert.ok(r, `no resource ${name}`);
    return r;
}

describe("preflight (mock runtime)", function () {
    this.timeout(60000);

    it("runs scripts/preflight.sh from stdin on every server, with the checks' arguments and nothing before it", async () => {
        const e = await evaluate(steadyBlue(), SECRETS);
        for (const [s, host] of [["web1", "10.0.0.11"], ["web2", "10.0.0.12"], ["web3", "10.0.0.13"]]) {
            const p = byName(e, `${s}-preflight`);
            assert.equal(p.type, "command:remote:Command");
            const create = "bash -s -- --dir /srv/portal --conf-dir /etc/nginx/portal --nginx-root /etc/nginx --mode state --test 'sudo nginx -t' --reload 'sudo nginx -s reload' --min-free-mb 2048";
            assert.deepEqual(p.inputs, {
                connection: p.inputs.connection,
                create,
                update: "true",
                stdin: SCRIPT,
                // Keyed on its checks and the script (components/target.ts): both re-run it.
                triggers: [create, `stdin sha256 ${createHash("sha256").update(SCRIPT).digest("hex")}`],
                logging: "stderr",
                addPreviousOutputInEnv: false,
            });
            assert.equal((p.inputs.connection as { value: { host: string } }).value.host, host);
            assert.deepEqual(p.dependsOn, []);
            assert.equal(p.parent, byName(e, s).urn);
        }
    });

    for (const [label, config] of [
        ["production, prepared", () => withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" })],
        ["production without migrations", () => ({ ...steadyBlue(), "portal:app": { ...(steadyBlue()["portal:app"] as object), migrate: [] } })],
        ["two tracks and an edge", () => withTracks(productionWithSite())],
    ] as const) {
        it(`every change on every host waits for every host's preflight (${label})`, async () => {
            const e = await evaluate(config(), SECRETS);
            const preflights = [...e.resources.values()].filter((r) => r.name.endsWith("-preflight")).map((r) => r.name);
            assert.ok(preflights.length >= 3);
            const after = waitsFor(e);
            const changes = hostChanges(e);
            assert.ok(changes.length >= 50, `only ${changes.length} changes`);
            for (const r of changes) {
                const deps = after(r.name);
                for (const p of preflights) assert.ok(deps.has(p), `${r.name} does not wait for ${p}`);
            }
        });
    }

    it("an edge host checks nginx only, in its own directory", async () => {
        const e = await evaluate(withTracks(productionWithSite()), SECRETS);
        assert.equal(
            byName(e, "lb1-preflight").inputs.create,
            "bash -s -- --dir /srv/portal-edge --conf-dir /etc/nginx/portal --nginx-root /etc/nginx --mode state --test 'sudo nginx -t' --reload 'sudo nginx -s reload' --min-free-mb 2048 --no-docker",
        );
    });

    it("takes the nginx tree and the free space from the config; the local stack has none", async () => {
        const config = { ...steadyBlue(), "portal:preflight": { minFreeMb: 512 }, "portal:nginx": { ...(steadyBlue()["portal:nginx"] as object), configRoot: "/opt/nginx/conf", mode: "reload" } };
        const e = await evaluate(config, SECRETS);
        assert.match(String(byName(e, "web2-preflight").inputs.create), / --nginx-root \/opt\/nginx\/conf --mode reload .* --min-free-mb 512$/);
        const local = await evaluate(loadStack("local"));
        assert.deepEqual([...local.resources.values()].filter((r) => r.name.endsWith("-preflight")), []);
    });

    it("refuses a bad preflight.minFreeMb or nginx.configRoot with the key named", () => {
        const raw = (extra: Record<string, unknown>) => {
            const c: Record<string, unknown> = {};
            for (const [k, v] of Object.entries({ ...steadyBlue(), ...extra })) c[k.replace(/^portal:/, "")] = v;
            return c;
        };
        assert.throws(() => validateConfig(raw({ "portal:preflight": { minFreeMb: -1 } })), (e: Error) => e instanceof ConfigError && /preflight\.minFreeMb/.test(e.message));
        assert.throws(() => validateConfig(raw({ "portal:preflight": { minFree: 1 } })), (e: Error) => e instanceof ConfigError && /preflight\.minFree/.test(e.message));
        assert.throws(
            () => validateConfig(raw({ "portal:nginx": { ...(steadyBlue()["portal:nginx"] as object), configRoot: "etc/nginx" } })),
            (e: Error) => e instanceof ConfigError && /nginx\.configRoot/.test(e.message),
        );
        assert.equal(validateConfig(raw({})).preflight.minFreeMb, 2048);
    });
});
