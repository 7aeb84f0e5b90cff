// scripts/init-routes.sh (reload mode) on a new server: before the first switch, placeholder
// live.conf / passive.conf let a site that proxies to $portal_live / $portal_passive pass
// `nginx -t`; existing route files are never touched. Followed through the real lifecycle:
// upstreams.conf, init-routes.sh, site.conf published with switch-route.sh, first switches.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { LIVE_FILE, PASSIVE_FILE, SITE_FILE, UPSTREAMS_FILE, renderLiveRoute, renderPassiveRoute, renderSite, renderUpstreams } from "../../lib/nginx/nginxRoutes";
import { startColorBackends, type ColorBackend } from "../../harness/backends";
import { freePort } from "../../harness/http";
import { startNginx, type NginxInstance } from "../../harness/nginx";
import { describeResult, makeTempDir, removeTempDir, run, runScript } from "../../harness/run";
import { appConfig, get, live, passive, switchRoute } from "./fixture";

const initRoutes = (dir: string) => runScript("init-routes.sh", [dir], { timeoutMs: 15_000 });

describe("routing: scripts/init-routes.sh (reload mode, real nginx)", function () {
    this.timeout(60_000);

    let blue: ColorBackend;
    let green: ColorBackend;
    let nginx: NginxInstance | undefined;
    let tmp: string | undefined;

    before(async function () {
        ({ blue, green } = await startColorBackends());
    });

    after(async function () {
        await blue?.close();
        await green?.close();
    });

    afterEach(async function () {
        await nginx?.stop();
        nginx = undefined;
        removeTempDir(tmp);
        tmp = undefined;
    });

    it("on a new server its placeholders let the site pass nginx -t; the listeners answer 502 until the first switches", async function () {
        // A server where only the upstreams exist yet (nginx's own port answers the readiness probe).
        nginx = await startNginx({
            portalFiles: { [UPSTREAMS_FILE]: renderUpstreams(appConfig(blue, green)) },
            serverBody: 'location / { return 200 "nginx\\n"; }',
        });
        const dir = nginx.portalDir;
        const ports = { live: await freePort(), passive: await freePort() };
        const siteConf = renderSite({ address: "127.0.0.1", ...ports });
        const siteUrl = (listener: "live" | "passive") => `http://127.0.0.1:${ports[listener]}/`;
        const entries = () => fs.readdirSync(dir).sort();

        // Without placeholders the site does not pass the test (switch-route.sh removes it again).
        const early = await switchRoute(nginx, path.join(dir, SITE_FILE), siteConf);
        assert.equal(early.code, 1, describeResult(early));
        assert.match(early.stderr, /unknown "portal_(live|passive)" variable/);
        assert.deepEqual(entries(), [UPSTREAMS_FILE]);

        const init = await initRoutes(dir);
        assert.equal(init.code, 0, describeResult(init));
        assert.deepEqual(entries(), [LIVE_FILE, PASSIVE_FILE, UPSTREAMS_FILE], "exactly the two placeholders, no temp file");
        for (const file of [LIVE_FILE, PASSIVE_FILE]) {
            assert.equal(fs.statSync(path.join(dir, file)).mode & 0o777, 0o644, file);
            assert.match(fs.readFileSync(path.join(dir, file), "utf8"), /\$portal_(live|passive)[\s\S]*default portal_unrouted;/, file);
        }
        const [testFile, ...testArgs] = nginx.testCmd.split(" ");
        const t = await run(testFile!, testArgs, { timeoutMs: 15_000 });
        assert.equal(t.code, 0, `nginx -t with only upstreams + placeholders: ${describeResult(t)}`);

        const site = await switchRoute(nginx, path.join(dir, SITE_FILE), siteConf);
        assert.equal(site.code, 0, describeResult(site));
        for (const port of ["live", "passive"] as const) {
            assert.equal((await get(siteUrl(port))).status, 502, `${port} listener before its first switch`);
        }

        // First passive switch (prepare), then the first live one: each listener comes alive on its own.
        const p = await switchRoute(nginx, path.join(dir, PASSIVE_FILE), renderPassiveRoute(passive("green")));
        assert.equal(p.code, 0, describeResult(p));
        assert.equal((await get(siteUrl("passive"))).body, "green v2\n");
        assert.equal((await get(siteUrl("live"))).status, 502);
        const l = await switchRoute(nginx, path.join(dir, LIVE_FILE), renderLiveRoute(live("blue", 5, "sticky")));
        assert.equal(l.code, 0, describeResult(l));
        assert.equal((await get(siteUrl("live"), { cookie: "portal_client=someone" })).status, 200);

        // Running it again (every deploy does) leaves the real routes alone.
        const before = Object.fromEntries([LIVE_FILE, PASSIVE_FILE].map((f) => [f, { bytes: fs.readFileSync(path.join(dir, f)), stat: fs.statSync(path.join(dir, f)) }]));
        const reloads = nginx.reconfigurations();
        const again = await initRoutes(dir);
        assert.equal(again.code, 0, describeResult(again));
        for (const [file, { bytes, stat }] of Object.entries(before)) {
            const now = fs.statSync(path.join(dir, file));
            assert.deepEqual(fs.readFileSync(path.join(dir, file)), bytes, `${file} byte-identical`);
            assert.equal(now.ino, stat.ino, `${file} not replaced`);
            assert.equal(now.mtimeMs, stat.mtimeMs, `${file} not rewritten`);
        }
        assert.deepEqual(entries(), [LIVE_FILE, PASSIVE_FILE, SITE_FILE, UPSTREAMS_FILE]);
        assert.equal(nginx.reconfigurations(), reloads, "init-routes.sh does not reload nginx");
        assert.equal((await get(siteUrl("passive"))).body, "green v2\n");
    });

    it("creates only the missing placeholder (making CONF_DIR if needed); an existing file stays byte-identical", async function () {
        tmp = makeTempDir("init-routes");
        const dir = path.join(tmp, "etc", "portal");
        const liveConf = renderLiveRoute(live("green", 12.5, "request"));
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, LIVE_FILE), liveConf, { mode: 0o600 });
        const stat = fs.statSync(path.join(dir, LIVE_FILE));

        const r = await initRoutes(dir);
        assert.equal(r.code, 0, describeResult(r));
        assert.match(r.stderr, /wrote placeholder .*passive\.conf/);
        assert.doesNotMatch(r.stderr, /live\.conf/);
        assert.equal(fs.readFileSync(path.join(dir, LIVE_FILE), "utf8"), liveConf);
        const now = fs.statSync(path.join(dir, LIVE_FILE));
        assert.equal(now.ino, stat.ino);
        assert.equal(now.mtimeMs, stat.mtimeMs);
        assert.equal(now.mode & 0o777, 0o600, "its mode is left alone too");
        assert.deepEqual(fs.readdirSync(dir).sort(), [LIVE_FILE, PASSIVE_FILE]);

        const fresh = path.join(tmp, "new", "dir");
        const r2 = await initRoutes(fresh);
        assert.equal(r2.code, 0, describeResult(r2));
        assert.deepEqual(fs.readdirSync(fresh).sort(), [LIVE_FILE, PASSIVE_FILE]);

        const usage = await runScript("init-routes.sh", [], { timeoutMs: 15_000 });
        assert.equal(usage.code, 2, describeResult(usage));
    });
});
