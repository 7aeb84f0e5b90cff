// A live switch killed after its rename and before its reload (SIGKILL, power loss: no trap
// runs) leaves the new live.conf on disk, nginx still serving the old one, and the backup of
// the old file. The next switch of any route must not apply that unfinished switch with its
// own reload: it restores the backup first. (What a SIGKILL leaves at each point is proven by
// test/drills/killedSwitch.test.ts; this test lays out exactly that state.)

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { startColorBackends, type ColorBackend } from "../../harness/backends";
import { describeResult } from "../../harness/run";
import { get, live, passive, startRouting, switchRoute, type RoutingSetup } from "./fixture";
import { renderLiveRoute, renderPassiveRoute } from "../../lib/nginx/nginxRoutes";

describe("routing: a switch killed before its reload is never applied by the next one (real nginx, reload mode)", function () {
    this.timeout(60_000);
    let backends: { blue: ColorBackend; green: ColorBackend };
    let routing: RoutingSetup;

    before(async () => {
        backends = await startColorBackends();
        routing = await startRouting("reload", backends.blue, backends.green, { live: live("blue"), passive: passive("blue") });
    });

    after(async () => {
        await routing?.stop();
        await backends?.blue.close();
        await backends?.green.close();
    });

    it("a passive switch restores the killed live switch's backup before it reloads nginx", async () => {
        const dir = path.dirname(routing.liveFile);
        const served = renderLiveRoute(live("blue"));
        // The killed deploy's leftovers: new content renamed into place, its backup beside it.
        fs.writeFileSync(path.join(dir, ".live.conf.bak.Ab12Cd"), served);
        fs.writeFileSync(routing.liveFile, renderLiveRoute(live("green")));
        fs.writeFileSync(path.join(dir, ".live.conf.tmp.Ef34Gh"), "map $host $portal_live {");

        const r = await switchRoute(routing.nginx, routing.passiveFile, renderPassiveRoute(passive("green")));
        assert.equal(r.code, 0, describeResult(r));
        assert.match(r.stderr, /restoring .*live\.conf left by an interrupted switch/);

        assert.equal(fs.readFileSync(routing.liveFile, "utf8"), served, "live.conf is back to what nginx served");
        assert.deepEqual(routing.portalEntries().filter((e) => e.startsWith(".")), [], "no backup or temp file remains");
        for (let i = 0; i < 20; i++) assert.equal((await get(routing.liveUrl)).body, "blue v1\n", "live traffic stayed on blue");
        assert.equal((await get(routing.passiveUrl)).body, "green v2\n", "the passive switch itself took effect");
    });
});
