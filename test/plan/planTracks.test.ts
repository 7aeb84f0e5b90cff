// The offline plan shows every track and the edge.

import assert from "node:assert/strict";
import { planStack } from "../../offline/plan";
import { productionWithSite, withTracks } from "../support/stacks";

describe("offline plan with tracks and an edge", function () {
    this.timeout(60000);

    it("lists the main track as before, then each track and the edge split", async () => {
        const single = await planStack({ config: productionWithSite(), secrets: {}, storage: { encrypted: [] } });
        const plan = await planStack({ config: withTracks(productionWithSite()), secrets: {}, storage: { encrypted: [] } });
        assert.deepEqual({ ...plan, tracks: undefined, edge: undefined }, { ...single, tracks: undefined, edge: undefined });
        assert.equal(single.tracks, undefined);
        assert.equal(plan.tracks!.length, 1);
        const py3 = plan.tracks![0];
        assert.deepEqual([py3.name, py3.stage, py3.retired], ["py3", "steady", false]);
        assert.deepEqual(py3.release, { tags: { red: "py3-2020.08.01-1" }, live: "red", passive: "red", canary: 0 });
        assert.deepEqual(py3.servers[1].containers.map((c) => [c.name, c.tag, c.protected]), [["portal-py3-red", "py3-2020.08.01-1", true]]);
        assert.deepEqual(py3.servers[1].upstreams, { live: "py3_red", passive: "py3_red" });
        assert.deepEqual(py3.servers[1].workers, []);
        assert.equal(py3.servers[0].liveColorFile, "/srv/portal-py3/live-color");
        assert.deepEqual(plan.edge, { hosts: ["lb1 (10.0.1.5)"], split: "edge_main, 0.5% to edge_py3 (sticky per client)", trackPorts: { main: 8090, py3: 8091 } });
    });
});
