// Drill: prepare brings up a new color that never becomes healthy (its health path answers
// 404, or nothing listens at all). wait-healthy.sh must fail within its timeout, so neither
// the passive switch nor (at deploy) the live switch runs, and the live listener keeps
// serving the old color to keep-alive and fresh clients without one failed request.
// Real nginx (the program's rendered files, published by its scripts) and real containers.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import type { ReleaseConfig } from "../../lib/config/config";
import { transition } from "../../lib/release/releaseTransitions";
import { startDrillNginx, type DrillNginx } from "../../harness/drillNginx";
import { DrillServer } from "../../harness/drillServer";
import { phaseFigures, withSendTimes } from "../../harness/stats";
import { colorBody, colorContainersForSuite, replaceColorContainer, type Health } from "../../harness/colorContainers";
import { freePort, httpGet } from "../../harness/http";
import { startLoad } from "../../harness/load";
import { sleep } from "../../harness/run";

const HEALTH_TIMEOUT_SECONDS = 2;
/** The deploy-time re-check: the program gives it 30 s; 1 s is enough to show it fails. */
const RECHECK_SECONDS = 1;
const R0: ReleaseConfig = { tags: { blue: "v1", green: "v0" }, live: "blue", passive: "blue", canary: 0 };

function next(release: ReleaseConfig, verb: "prepare" | "deploy", argument?: string): ReleaseConfig {
    const t = transition(release, verb, argument);
    if (!t.ok) throw new Error(t.reason);
    return t.release;
}

const VARIANTS: Array<{ mode: "state" | "reload"; health: Health; lastResult: RegExp }> = [
    { mode: "state", health: "health-404", lastResult: /last result: HTTP 404/ },
    { mode: "reload", health: "never-listens", lastResult: /last result: curl exit (7|52|56)\b/ },
];

describe("drill: a new color that never becomes healthy", function () {
    this.timeout(60_000);
    const tag = `drill-unhealthy-${process.pid}`;
    const { names, hostPorts } = colorContainersForSuite(tag, { blue: "v1", green: "v0" });

    for (const { mode, health, lastResult } of VARIANTS) {
        describe(`${mode} mode, the new color ${health === "health-404" ? "answers 404 on its health path" : "never listens"}`, function () {
            let nginx: DrillNginx;
            let server: DrillServer;
            let site: { live: number; passive: number };

            before(async function () {
                nginx = await startDrillNginx({ njs: mode === "state", workerProcesses: "1" });
                site = { live: await freePort(), passive: await freePort() };
                server = new DrillServer({ mode, confDir: nginx.confDir, nginx: nginx.control, hostPorts, site, release: R0, migrate: [], clock: () => 0, healthTimeoutSeconds: HEALTH_TIMEOUT_SECONDS, recheckSeconds: RECHECK_SECONDS });
                await server.setup();
                await server.publishPassive(R0);
                await server.publishLive(R0);
                await nginx.settled();
            });

            after(async function () {
                await nginx?.stop();
                server?.cleanup();
            });

            it("wait-healthy.sh fails within its timeout; nothing is switched; live serves blue with 0 failed requests", async function () {
                const liveFile = server.liveRoute(R0).path;
                const passiveFile = server.passiveRoute(R0).path;
                const routesBefore = [fs.readFileSync(liveFile, "utf8"), fs.readFileSync(passiveFile, "utf8")];
                const reloadsBefore = nginx.reconfigurations();
                const load = startLoad({ url: `http://127.0.0.1:${site.live}/`, keepAliveClients: 4, freshClients: 2, durationMs: 30_000 });
                await sleep(300);

                // prepare, in the program's order: new container -> health wait -> passive switch.
                const r1 = next(R0, "prepare", "v2");
                await replaceColorContainer({ name: names.green, hostPort: hostPorts.green, color: "green", version: "v2", health });
                const waitStart = Date.now();
                const wait = await server.exec("green-healthy", server.planned(r1, "green-healthy").command);
                const waited = Date.now() - waitStart;
                if (wait.code === 0) await server.publishPassive(r1);
                assert.equal(wait.code, 1, `${wait.stdout}${wait.stderr}`);
                assert.match(wait.stderr, new RegExp(`not healthy after ${HEALTH_TIMEOUT_SECONDS}s`));
                assert.match(wait.stderr, lastResult);
                // The deadline plus at most one interval (1 s) and one curl --max-time (2 s), with
                // 5 s of room for process start-up on a loaded machine.
                assert.ok(waited >= HEALTH_TIMEOUT_SECONDS * 1000 && waited < (HEALTH_TIMEOUT_SECONDS + 1 + 2 + 5) * 1000, `failed after ${waited} ms`);

                // deploy, were it attempted anyway: the re-check of the live-to-be color fails first.
                const r2 = next(r1, "deploy");
                const recheck = await server.exec("live-healthy", server.planned(r2, "live-healthy").command);
                if (recheck.code === 0) await server.publishLive(r2);
                assert.equal(recheck.code, 1, `${recheck.stdout}${recheck.stderr}`);

                await sleep(300);
                load.stop();
                const figures = phaseFigures(withSendTimes(await load.done), -Infinity, Infinity);
                assert.ok(figures.requestsByKind.keepalive > 20 && figures.requestsByKind.fresh > 5, `the load ran: ${JSON.stringify(figures.requestsByKind)}`);
                assert.equal(figures.failures, 0, `no failed request: ${JSON.stringify(figures.errors)}`);
                assert.deepEqual(Object.keys(figures.byLabel), ["blue v1"], "every response came from blue v1");
                assert.deepEqual([fs.readFileSync(liveFile, "utf8"), fs.readFileSync(passiveFile, "utf8")], routesBefore, "route files untouched");
                assert.equal(nginx.reconfigurations(), reloadsBefore, "nginx was not reloaded");
                assert.equal((await httpGet(`http://127.0.0.1:${site.passive}/`)).body, colorBody("blue", "v1"), "the passive listener still routes to blue");
            });
        });
    }
});
