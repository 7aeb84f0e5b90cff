// switch-route.sh reports only what took effect: exit 0 once nginx's new workers serve the new
// file, exit 1 with nginx's own line when the master rejects the reload (a listener on a taken
// port passes `nginx -t`), and switches started close together in one directory both apply.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as cmd from "../../lib/commands";
import { freePort, httpGet, startTextServer, type TestServer } from "../support/http";
import { startNginx, type NginxInstance } from "../support/nginx";
import { REPO_ROOT, describeResult, run, sleep } from "../support/run";

const liveMap = (upstream: string) => `map $host $portal_live { default ${upstream}; }\n`;
const passiveMap = (upstream: string) => `map $host $portal_passive { default ${upstream}; }\n`;

describe("scripts/switch-route.sh confirms the reload (real nginx)", function () {
    this.timeout(60_000);

    let blue: TestServer;
    let green: TestServer;
    let nginx: NginxInstance;
    let live: string;
    let passive: string;

    /** Runs the switch exactly as the program declares it (lib/commands.ts). */
    const switchRoute = (target: string, content: string) => {
        const { argv } = cmd.switchRoute(REPO_ROOT, target, nginx.control);
        return run(argv[0]!, argv.slice(1), { input: content, timeoutMs: 60_000 });
    };
    const entries = () => fs.readdirSync(nginx.portalDir).sort();

    before(async function () {
        blue = await startTextServer("blue");
        green = await startTextServer("green");
    });
    after(async function () {
        await blue?.close();
        await green?.close();
    });
    beforeEach(async function () {
        nginx = await startNginx({
            portalFiles: {
                "upstreams.conf": `upstream portal_blue { server 127.0.0.1:${blue.port}; }\nupstream portal_green { server 127.0.0.1:${green.port}; }\n`,
                "live.conf": liveMap("portal_blue"),
                "passive.conf": passiveMap("portal_blue"),
            },
            serverBody: "location / { proxy_pass http://$portal_live; } location /passive/ { proxy_pass http://$portal_passive/; }",
        });
        live = path.join(nginx.portalDir, "live.conf");
        passive = path.join(nginx.portalDir, "passive.conf");
    });
    afterEach(async function () {
        await nginx?.stop();
    });

    it("a fresh connection opened right after exit 0 always gets the new color (50 switches, 0 stale)", async function () {
        const stale: string[] = [];
        for (let i = 0; i < 50; i++) {
            const color = i % 2 === 0 ? "green" : "blue";
            const r = await switchRoute(live, liveMap(`portal_${color}`));
            assert.equal(r.code, 0, describeResult(r));
            const got = await httpGet(nginx.baseUrl + "/");
            if (got.body !== color) stale.push(`switch ${i + 1} to ${color}: got ${got.status} ${got.body}`);
        }
        assert.deepEqual(stale, [], "every GET after exit 0 saw the new configuration");
        assert.equal(nginx.reconfigurations(), 50, "one reconfiguration per switch");
    });

    it("a listener on a taken port passes nginx -t but the master rejects it: exit 1 with nginx's line, file restored", async function () {
        const port = await freePort();
        const holder = net.createServer();
        await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
        try {
            const before = fs.readFileSync(live);
            const content = liveMap("portal_green") + `server { listen 127.0.0.1:${port}; return 200 "taken\\n"; }\n`;
            const test = await run("nginx", nginx.testCmd.split(" ").slice(1), { timeoutMs: 15_000 });
            assert.equal(test.code, 0, "the current config tests fine");

            const started = Date.now();
            const r = await switchRoute(live, content);
            assert.equal(r.code, 1, describeResult(r));
            assert.match(r.stderr, new RegExp(`\\[emerg\\] .*bind\\(\\) to 127\\.0\\.0\\.1:${port} failed \\(98: Address already in use\\)`), "nginx's own error line");
            assert.match(r.stderr, /switch-route: nginx rejected the reload/);
            assert.match(r.stderr, /restored previous .*live\.conf; nginx keeps serving its previous configuration/);
            assert.ok(Date.now() - started < 20_000, "fails well before its 30 s timeout");
            assert.deepEqual(fs.readFileSync(live), before, "live.conf is the file nginx serves");
            assert.deepEqual(entries(), ["live.conf", "passive.conf", "upstreams.conf"], "no temp or backup file left");
            for (let i = 0; i < 5; i++) assert.equal((await httpGet(nginx.baseUrl + "/")).body, "blue");
        } finally {
            await new Promise<void>((resolve) => holder.close(() => resolve()));
        }
        // The next switch is not stuck behind the rejected one.
        const next = await switchRoute(live, liveMap("portal_green"));
        assert.equal(next.code, 0, describeResult(next));
        assert.equal((await httpGet(nginx.baseUrl + "/")).body, "green");
    });

    it("two switches of different files started 10 ms apart both end applied", async function () {
        for (let round = 0; round < 5; round++) {
            const color = round % 2 === 0 ? "green" : "blue";
            const first = switchRoute(live, liveMap(`portal_${color}`));
            await sleep(10);
            const second = switchRoute(passive, passiveMap(`portal_${color}`));
            const [a, b] = await Promise.all([first, second]);
            assert.equal(a.code, 0, describeResult(a));
            assert.equal(b.code, 0, describeResult(b));
            // Whichever exits last, both files serve once both have exited.
            assert.equal((await httpGet(nginx.baseUrl + "/")).body, color, `round ${round}: live`);
            assert.equal((await httpGet(nginx.baseUrl + "/passive/")).body, color, `round ${round}: passive`);
        }
    });
});
