// The prune step (mock runtime): one per track directory on every server, after the deploy's
// recorded live switch and the workers, keyed on the live color and tag only.

import assert from "node:assert/strict";
import { evaluate, type DeclaredResource, type Evaluation } from "../../offline/evaluate";
import { diff } from "../../offline/diff";
import { ConfigError, validateConfig } from "../../lib/config/config";
import { productionWithSite, steadyBlue, withRelease, withTracks } from "../support/stacks";

function byName(e: Evaluation, name: string): DeclaredResource {
    const r = [...e.resources.values()].find((x) => x.name === name);
    assert.ok(r, `no resource ${name}`);
    return r;
}
const urnOf = (e: Evaluation, name: string) => byName(e, name).urn;

describe("prune step (mock runtime)", function () {
    this.timeout(60000);

    it("runs prune.sh per track directory with the kept count and the track's repository, after the live switch and the workers", async () => {
        const e = await evaluate({ ...withTracks(productionWithSite()), "portal:prune": { keep: 7 } });
        const main = byName(e, "web1-prune");
        assert.equal(main.inputs.create, "bash /srv/portal/scripts/prune.sh /srv/portal 7");
        assert.equal(main.inputs.stdin, "registry.example.com/portal\n");
        // Keyed on the live release only: the repositories on stdin are not a trigger.
        assert.deepEqual(main.inputs.triggers, ["bash /srv/portal/scripts/prune.sh /srv/portal 7", "blue", "2020.08.06-1"]);
        assert.deepEqual([...main.dependsOn].sort(), [urnOf(e, "web1-scripts"), urnOf(e, "web1-record-live"), urnOf(e, "web1-djobs"), urnOf(e, "web1-cron")].sort());
        const py3 = byName(e, "web2-py3-prune");
        assert.equal(py3.inputs.create, "bash /srv/portal/scripts/prune.sh /srv/portal-py3 7");
        assert.equal(py3.inputs.stdin, "registry.example.com/portal-py3\n");
        assert.deepEqual([...py3.dependsOn].sort(), [urnOf(e, "web2-scripts"), urnOf(e, "web2-py3-record-live")].sort());
    });

    it("runs again on deploy and rollback, never on prepare or canary", async () => {
        const steady = await evaluate(steadyBlue());
        const prepared = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" }));
        const canary = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green", canary: 5 }));
        const deployed = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, live: "green", passive: "green" }));
        const prunes = (d: { changed: string[] }) => d.changed.filter((n) => n.endsWith("-prune")).sort();
        assert.deepEqual(prunes(diff(steady, prepared)), []);
        assert.deepEqual(prunes(diff(prepared, canary)), []);
        assert.deepEqual(prunes(diff(prepared, deployed)), ["web1-prune", "web2-prune", "web3-prune"]);
        assert.deepEqual(prunes(diff(deployed, steady)), ["web1-prune", "web2-prune", "web3-prune"]);
        assert.equal(byName(steady, "web1-prune").inputs.create, "bash /srv/portal/scripts/prune.sh /srv/portal 5");
    });

    it("preparing a color on a new repository does not run it (the new image is pulled before a compose file names it); the next deploy prunes both", async () => {
        const steady = await evaluate({ ...steadyBlue(), "portal:image": "registry.example.com/portal-py3" });
        const prepared = await evaluate(withRelease({ ...steadyBlue(), "portal:image": "registry.example.com/portal-py3" }, { tags: { green: "2020.08.07-1" }, passive: "green", images: { blue: "registry.example.com/portal", green: "registry.example.com/portal-py3" } }));
        assert.deepEqual(diff(steady, prepared).changed.filter((n) => n.endsWith("-prune")), []);
        assert.equal(byName(prepared, "web1-prune").inputs.stdin, "registry.example.com/portal-py3\nregistry.example.com/portal\n");
    });

    it("refuses prune.keep outside 1-1000", () => {
        const raw = (keep: unknown) => {
            const c: Record<string, unknown> = {};
            for (const [k, v] of Object.entries({ ...steadyBlue(), "portal:prune": { keep } })) c[k.replace(/^portal:/, "")] = v;
            return c;
        };
        for (const bad of [0, -1, 1.5, 1001]) {
            assert.throws(() => validateConfig(raw(bad)), (e: Error) => e instanceof ConfigError && /prune\.keep/.test(e.message), String(bad));
        }
        assert.equal(validateConfig(raw(3)).prune.keep, 3);
    });
});
