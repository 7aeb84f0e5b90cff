// Drill: steps that must fail cleanly while live traffic runs. A live route nginx -t rejects
// (reload mode), a state file the state switch refuses (state mode), and a migration that
// exits 1: each step exits non-zero with the reason, leaves the previous route in place and
// the live listener serving blue without a failed request.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import type { ReleaseConfig } from "../../lib/config/config";
import { startDrillNginx, type DrillNginx } from "../../harness/drillNginx";
import { DrillServer, MIGRATION_ENV } from "../../harness/drillServer";
import { phaseFigures, withSendTimes } from "../../harness/stats";
import { colorBody, colorContainersForSuite, waitForColor } from "../../harness/colorContainers";
import { docker } from "../../harness/docker";
import { freePort, httpGet } from "../../harness/http";
import { startLoad, type LoadRun } from "../../harness/load";
import { run, sleep } from "../../harness/run";

const BLUE: ReleaseConfig = { tags: { blue: "v1", green: "v2" }, live: "blue", passive: "green", canary: 0 };
const GREEN: ReleaseConfig = { tags: { blue: "v1", green: "v2" }, live: "green", passive: "green", canary: 0 };

describe("drill: rejected steps under load", function () {
    this.timeout(60_000);
    const tag = `drill-rejected-${process.pid}`;
    const { hostPorts } = colorContainersForSuite(tag);

    for (const mode of ["reload", "state"] as const) {
        describe(`${mode} mode`, function () {
            let nginx: DrillNginx;
            let server: DrillServer;
            let livePort: number;
            let load: LoadRun | undefined;

            const startLiveLoad = () => startLoad({ url: `http://127.0.0.1:${livePort}/`, keepAliveClients: 4, freshClients: 2, durationMs: 30_000 });
            const stopLoad = async () => {
                load!.stop();
                const figures = phaseFigures(withSendTimes(await load!.done), -Infinity, Infinity);
                load = undefined;
                assert.ok(figures.requests > 10, "the load ran");
                assert.equal(figures.failures, 0, `no failed request: ${JSON.stringify(figures.errors)}`);
                assert.deepEqual(Object.keys(figures.byLabel), ["blue v1"], "every response came from blue v1");
            };

            before(async function () {
                nginx = await startDrillNginx({ njs: mode === "state", workerProcesses: "1" });
                livePort = await freePort();
                server = new DrillServer({
                    mode,
                    confDir: nginx.confDir,
                    nginx: nginx.control,
                    hostPorts,
                    site: { live: livePort, passive: await freePort() },
                    release: BLUE,
                    migrate: ["sh", "-c", "echo migrating >&2; exit 1"],
                    clock: () => 0,
                });
                await server.setup();
                await server.publishPassive(BLUE);
                await server.publishLive(BLUE);
                await waitForColor(livePort, colorBody("blue", "v1"));
                await nginx.settled();
            });

            afterEach(async function () {
                load?.stop();
                await load?.done;
                load = undefined;
            });

            after(async function () {
                await nginx?.stop();
                server?.cleanup();
            });

            if (mode === "reload") {
                it("a live route that fails nginx -t: exit 1 with nginx's message, previous file restored, no reload, still serving", async function () {
                    const route = server.liveRoute(GREEN);
                    const before = fs.readFileSync(route.path);
                    const entries = fs.readdirSync(nginx.confDir).sort();
                    const reloads = nginx.reconfigurations();
                    load = startLiveLoad();
                    await sleep(200);
                    // The rendered green route cut in the middle, as a truncated upload would be.
                    const truncated = route.content.slice(0, route.content.lastIndexOf("{") + 5);
                    const r = await server.exec("route-live (truncated)", route.command, truncated);
                    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
                    assert.match(r.stderr, /nginx: \[emerg\] unexpected end of file/, "nginx's own message");
                    assert.match(r.stderr, /configuration file .* test failed/);
                    assert.match(r.stderr, /switch-route: config test failed .*; restored previous .*live\.conf, nginx not reloaded/);
                    assert.deepEqual(fs.readFileSync(route.path), before, "live.conf is byte-identical to before");
                    assert.deepEqual(fs.readdirSync(nginx.confDir).sort(), entries, "no temp or backup file left");
                    await sleep(300);
                    assert.equal(nginx.reconfigurations(), reloads, "nginx was not reloaded");
                    const [file, ...args] = nginx.testCmd.split(" ");
                    assert.equal((await run(file, args)).code, 0, "the config on disk passes nginx -t");
                    await stopLoad();
                    assert.equal((await httpGet(`http://127.0.0.1:${livePort}/`)).body, colorBody("blue", "v1"));
                });
            } else {
                it("a state that is not one JSON object on one line: refused before the rename, still serving", async function () {
                    const route = server.liveRoute(GREEN);
                    const before = fs.readFileSync(route.path);
                    const entries = fs.readdirSync(nginx.confDir).sort();
                    load = startLiveLoad();
                    await sleep(200);
                    for (const bad of ["", "portal_green\n", route.content + route.content, JSON.stringify({ upstream: "portal_green" }, null, 2) + "\n"]) {
                        const r = await server.exec("route-live (bad state)", route.command, bad);
                        assert.equal(r.code, 1, `${JSON.stringify(bad)}: ${r.stdout}${r.stderr}`);
                        assert.match(r.stderr, /switch-state: refusing .*live\.state: the new state is not one .*JSON object on one line/);
                        assert.deepEqual(fs.readFileSync(route.path), before, "live.state is byte-identical to before");
                        assert.deepEqual(fs.readdirSync(nginx.confDir).sort(), entries, "no temp file left");
                    }
                    await sleep(300);
                    await stopLoad();
                });

                it("a truncated state (one line, cut inside the object) is refused: nothing for the router to choke on", async function () {
                    const route = server.liveRoute(GREEN);
                    const before = fs.readFileSync(route.path);
                    load = startLiveLoad();
                    await sleep(200);
                    for (const cut of [route.content.indexOf(":") + 1, route.content.length - 3]) {
                        const truncated = route.content.slice(0, cut);
                        const r = await server.exec("route-live (truncated state)", route.command, truncated);
                        assert.equal(r.code, 1, `${JSON.stringify(truncated)} was accepted: ${r.stdout}${r.stderr}`);
                        assert.match(r.stderr, /switch-state: refusing/);
                        assert.deepEqual(fs.readFileSync(route.path), before, "live.state is byte-identical to before");
                    }
                    await sleep(300);
                    await stopLoad();
                });
            }

            // The migration does not depend on the routing mode: drilled once.
            if (mode === "state") {
                it("the migration exits 1: run-migrations.sh fails with its status and leaves no container; live unaffected", async function () {
                    load = startLiveLoad();
                    await sleep(200);
                    const { command, stdin } = await server.migrateCommand("green");
                    const containerName = command.argv[2];
                    assert.equal(stdin, MIGRATION_ENV, "the color's env on stdin");
                    const r = await server.exec("green-migrate", command, stdin);
                    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
                    assert.match(r.stderr, /^migrating$/m, "the migration's own output is shown");
                    assert.match(r.stderr, /run-migrations: migrations failed with exit 1/);
                    const ps = await docker(["ps", "-a", "--filter", `name=^${containerName}$`, "--format", "{{.Names}}"]);
                    assert.equal(ps.stdout.trim(), "", "the one-off container is gone");
                    await sleep(300);
                    await stopLoad();
                });
            }
        });
    }
});
