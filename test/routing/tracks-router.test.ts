// Two tracks on one server, through one real nginx, in every switching mode: the main track
// (blue/green) and py3 (red/black), each with its own upstreams, listeners and route files,
// every one of them a step of the program's rollout plan run as planned (see tracks-fixture.ts).
//
//   state:  one router.conf for both; py3's listeners set $portal_track py3, so the njs router
//           reads py3-live.state / py3-passive.state for them and live.state / passive.state
//           for the main ones, and proxies a py3 listener only to py3_* upstreams.
//   reload: py3-live.conf / py3-passive.conf define $py3_live / $py3_passive (init-routes.sh
//           CONF_DIR py3 writes placeholders first).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { validateConfig, type PortalConfig } from "../../lib/config/config";
import { type LiveRoute } from "../../lib/model/rollout";
import { routeMode, type RouteFile } from "../../lib/nginx/routeModes";
import { namesOf } from "../../lib/model/tracks";
import { tracksOf, type Track } from "../../lib/model/tracks";
import { startColorBackend, type ColorBackend } from "../../harness/backends";
import { freePort } from "../../harness/http";
import { startNginx, type NginxInstance } from "../../harness/nginx";
import { REPO_ROOT, describeResult } from "../../harness/run";
import { COOKIE, MODES, crashes, get, inLanes } from "./fixture";
import { PY3, attach, baseRaw, publishRoute, runPlanned, runPlannedSetup } from "./tracks-fixture";

const COLORS = ["blue", "green", "red", "black"] as const;
type Listener = "mainLive" | "mainPassive" | "py3Live" | "py3Passive";

for (const mode of MODES) {
    describe(`routing: two tracks on one server, ${mode} mode (real nginx)`, function () {
        this.timeout(60_000);

        const backends = {} as Record<(typeof COLORS)[number], ColorBackend>;
        let config: PortalConfig;
        let nginx: NginxInstance;
        let urls: Record<Listener, string>;
        let reloadsAtStart = 0;

        const track = (name: string): Track => tracksOf(config).find((t) => t.name === name)!;
        const main = () => track("main");
        const py3 = () => track(PY3);
        const file = (name: string) => path.join(nginx.portalDir, name);
        const counts = () => Object.fromEntries(COLORS.map((c) => [c, backends[c].count()])) as Record<string, number>;
        /** n requests (4 keep-alive lanes, every third on a fresh connection); returns "status body" per distinct reply. */
        const replies = async (listener: Listener, n = 40) => {
            const rs = await inLanes(Array.from({ length: n }, (_, i) => i), 4, (i, agent) => get(urls[listener], { agent: i % 3 ? agent : undefined }));
            return rs.map((r) => (r.status === 200 ? `200 ${r.body.trim()}` : String(r.status)));
        };
        const only = async (listener: Listener, expected: string, n = 30) => {
            const got = await replies(listener, n);
            assert.deepEqual([...new Set(got)], [expected], `${listener}: ${got.length} replies`);
        };
        const publish = async (route: RouteFile) => {
            const r = await publishRoute(config, route);
            assert.equal(r.code, 0, `${route.file}: ${describeResult(r)}`);
        };
        /** The plan's route step of a track on web1 (its passive or live route). */
        const publishPlanned = (t: Track, slot: "route-passive" | "route-live") => runPlanned(config, `web1-${namesOf(t).scoped(slot)}`);
        /** Edit a track's release in the config, then run the plan's live route step. */
        const setLive = async (t: () => Track, release: { live: string; passive: string; canary: number }) => {
            Object.assign(t().release, release);
            await publishPlanned(t(), "route-live");
        };
        const fingerprint = (names: string[]) => names.map((n) => ({ n, bytes: fs.readFileSync(file(n), "utf8"), ino: fs.statSync(file(n)).ino }));

        before(async function () {
            for (const [c, v] of [["blue", "v1"], ["green", "v2"], ["red", "py1"], ["black", "py2"]] as const) backends[c] = await startColorBackend(c, v);
            const raw = baseRaw();
            raw.servers = [{ name: "web1", host: "127.0.0.1", primary: true, workers: ["djobs", "cron"] }];
            raw.dir = REPO_ROOT; // the router comes from this repository's scripts/
            raw.release = { tags: { blue: "v1", green: "v2" }, live: "blue", passive: "green", canary: 0 };
            raw.app = { ...(raw.app as object), upstreamHost: "127.0.0.1", hostPorts: { blue: backends.blue.port, green: backends.green.port } };
            raw.nginx = { ...(raw.nginx as object), mode, canary: { mode: "request", cookie: COOKIE }, site: { address: "127.0.0.1", live: await freePort(), passive: await freePort() } };
            const t = (raw.tracks as Record<string, unknown>[])[0]!;
            Object.assign(t, {
                hostPorts: { red: backends.red.port, black: backends.black.port },
                release: { tags: { red: "py1", black: "py2" }, live: "red", passive: "black", canary: 0 },
                site: { address: "127.0.0.1", live: await freePort(), passive: await freePort() },
            });
            delete raw.edge;
            config = validateConfig(raw);
            urls = {
                mainLive: `http://127.0.0.1:${config.nginx.site!.live}/`,
                mainPassive: `http://127.0.0.1:${config.nginx.site!.passive}/`,
                py3Live: `http://127.0.0.1:${config.tracks[0]!.site.live}/`,
                py3Passive: `http://127.0.0.1:${config.tracks[0]!.site.passive}/`,
            };

            // nginx starts with no portal file; each track's Routing steps before its routes, as planned.
            nginx = await startNginx({ portalFiles: {}, serverBody: 'location / { return 200 "nginx\\n"; }', njs: mode === "state", lua: mode === "lua" });
            attach(config, nginx);
            const planned = [...(await runPlannedSetup(config, "web1-routing", "web1-route-passive")), ...(await runPlannedSetup(config, "web1-py3-routing", "web1-py3-route-passive"))];
            const init = (scope: string) => (mode === "reload" ? [`web1-${scope}routes-init`] : []);
            assert.deepEqual(planned, [...init(""), "web1-upstreams", ...(mode === "reload" ? [] : ["web1-router"]), "web1-site", ...init("py3-"), "web1-py3-upstreams", "web1-py3-site"]);
        });

        after(async function () {
            await nginx?.stop();
            await Promise.all(Object.values(backends).map((b) => b.close()));
        });

        it("before any route is published every listener answers 502; then each follows its own track's live or passive route", async function () {
            for (const l of ["mainLive", "mainPassive", "py3Live", "py3Passive"] as const) await only(l, "502", 6);
            assert.deepEqual(counts(), { blue: 0, green: 0, red: 0, black: 0 });
            for (const tr of [main(), py3()]) {
                await publishPlanned(tr, "route-passive");
                await publishPlanned(tr, "route-live");
            }
            const names = fs.readdirSync(nginx.portalDir).filter((n) => !n.startsWith("."));
            const routeFiles = mode !== "reload" ? ["live.state", "passive.state", "py3-live.state", "py3-passive.state"] : ["live.conf", "passive.conf", "py3-live.conf", "py3-passive.conf"];
            for (const f of routeFiles) assert.ok(names.includes(f), `${f} in ${names.join(", ")}`);
            if (mode === "reload") assert.match(fs.readFileSync(file("py3-live.conf"), "utf8"), /map \$host \$py3_live \{\s*default py3_red;/);
            else assert.equal(fs.readFileSync(file("py3-live.state"), "utf8"), '{"upstream":"py3_red"}\n');

            await only("mainLive", "200 blue v1");
            await only("mainPassive", "200 green v2");
            await only("py3Live", "200 red py1");
            await only("py3Passive", "200 black py2");
            assert.deepEqual(counts(), { blue: 30, green: 30, red: 30, black: 30 });
            assert.deepEqual(crashes(nginx), []);
            reloadsAtStart = nginx.reconfigurations();
        });

        it("switching py3 (live, then a 50% canary) changes nothing on the main track's listeners and files, and vice versa", async function () {
            const mainFiles = mode !== "reload" ? ["live.state", "passive.state"] : ["live.conf", "passive.conf"];
            const py3Files = mode !== "reload" ? ["py3-live.state", "py3-passive.state"] : ["py3-live.conf", "py3-passive.conf"];
            const mainBefore = fingerprint(mainFiles);

            await setLive(py3, { live: "black", passive: "red", canary: 0 });
            await only("py3Live", "200 black py2");
            let c0 = counts();
            await only("mainLive", "200 blue v1", 60);
            assert.deepEqual(counts(), { ...c0, blue: c0.blue! + 60 }, "the main listener sent everything to blue, nothing to a py3 color");

            await setLive(py3, { live: "red", passive: "black", canary: 50 });
            const spread = await replies("py3Live", 200);
            const black = spread.filter((r) => r === "200 black py2").length;
            assert.equal(spread.filter((r) => r === "200 red py1").length + black, 200, `py3 canary replies: ${[...new Set(spread)].join(", ")}`);
            assert.ok(black > 60 && black < 140, `py3 at 50% canary: ${black} of 200 on black`);
            c0 = counts();
            await only("mainLive", "200 blue v1", 100);
            await only("mainPassive", "200 green v2", 20);
            assert.deepEqual(counts(), { ...c0, blue: c0.blue! + 100, green: c0.green! + 20 });
            assert.deepEqual(fingerprint(mainFiles), mainBefore, "py3's switches never rewrote the main track's route files");

            // And the other way round: the main track switches, py3's listeners do not move.
            const py3Before = fingerprint(py3Files);
            await setLive(main, { live: "green", passive: "blue", canary: 0 });
            await only("mainLive", "200 green v2");
            c0 = counts();
            const py3Replies = await replies("py3Live", 100);
            assert.ok(py3Replies.every((r) => r === "200 red py1" || r === "200 black py2"), [...new Set(py3Replies)].join(", "));
            await only("py3Passive", "200 black py2", 20);
            assert.equal(counts().blue! + counts().green!, c0.blue! + c0.green!, "py3's listeners sent nothing to a main color");
            assert.deepEqual(fingerprint(py3Files), py3Before, "the main track's switch never rewrote py3's route files");

            await setLive(main, { live: "blue", passive: "green", canary: 0 });
            await setLive(py3, { live: "red", passive: "black", canary: 0 });
            await only("mainLive", "200 blue v1", 10);
            await only("py3Live", "200 red py1", 10);
            if (mode !== "reload") assert.equal(nginx.reconfigurations(), reloadsAtStart, "reload-free switches never reload nginx");
            else assert.equal(nginx.reconfigurations(), reloadsAtStart + 5, "one reload per reload-mode switch");
            assert.deepEqual(crashes(nginx), []);
        });

        if (mode !== "reload") {
            it("a py3 state naming a main upstream is not proxied (502, nothing reaches blue); a main state naming a py3 upstream neither", async function () {
                const reloads = nginx.reconfigurations();
                // Well-formed states: switch-state.sh accepts them, the router must refuse them.
                const hostile = async (target: string, state: object, listener: Listener, expected: string, label: string) => {
                    const r = await publishRoute(config, { file: target, content: JSON.stringify(state) + "\n" });
                    assert.equal(r.code, 0, `switch-state.sh ${label}: ${describeResult(r)}`);
                    const c0 = counts();
                    await only(listener, expected, 30);
                    return c0;
                };
                let c0 = await hostile("py3-live.state", { upstream: "portal_blue" }, "py3Live", "502", "py3 → portal_blue");
                assert.deepEqual(counts(), c0, "a py3 listener reached no backend at all");
                c0 = await hostile("py3-passive.state", { upstream: "portal_green" }, "py3Passive", "502", "py3 passive → portal_green");
                assert.deepEqual(counts(), c0);
                // A canary naming a main upstream is ignored: the py3 state's own upstream gets everything.
                c0 = await hostile(
                    "py3-live.state",
                    { upstream: "py3_red", canary: { upstream: "portal_blue", basisPoints: 10000, sticky: false, cookie: COOKIE } },
                    "py3Live",
                    "200 red py1",
                    "py3 canary → portal_blue",
                );
                assert.deepEqual(counts(), { ...c0, red: c0.red! + 30 });
                // The main listener's state naming a py3 upstream.
                c0 = await hostile("live.state", { upstream: "py3_red" }, "mainLive", "502", "main → py3_red");
                assert.deepEqual(counts(), c0);
                assert.match(fs.readFileSync(nginx.errorLog, "utf8"), /portal_unrouted/);

                for (const tr of [main(), py3()]) {
                    await publishPlanned(tr, "route-passive");
                    await publishPlanned(tr, "route-live");
                }
                await only("mainLive", "200 blue v1", 10);
                await only("py3Live", "200 red py1", 10);
                await only("py3Passive", "200 black py2", 10);
                assert.equal(nginx.reconfigurations(), reloads);
                assert.deepEqual(crashes(nginx), []);
            });
        } else {
            it("py3's route file can only name py3 upstreams: a py3 route to the color blue is py3_blue, not proxied (502, nothing reaches blue)", async function () {
                const route: LiveRoute = { color: "blue" };
                const rendered = routeMode("reload").live(route, py3());
                assert.equal(rendered.file, "py3-live.conf");
                assert.match(rendered.content, /\$py3_live \{\s*default py3_blue;/);
                await publish(rendered);
                const c0 = counts();
                await only("py3Live", "502", 20);
                assert.deepEqual(counts(), c0, "nothing reached any backend, blue included");
                await only("mainLive", "200 blue v1", 10);
                await publishPlanned(py3(), "route-live");
                await only("py3Live", "200 red py1", 10);
                assert.deepEqual(crashes(nginx), []);
            });
        }
    });
}
