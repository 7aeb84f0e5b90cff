// The reload-free mode's own guarantees, against a real nginx running the njs router:
// switch-state.sh only ever renames one valid-looking state into place (and leaves nothing
// behind), a missing state file costs its listener a 502 and nothing else, and the router
// never proxies to an upstream that is not one of the portal_* names.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { LIVE_STATE_FILE, PASSIVE_STATE_FILE, ROUTER_FILE, renderLiveState, renderPassiveState } from "../../lib/nginx/stateRoutes";
import { SITE_FILE, UPSTREAMS_FILE } from "../../lib/nginx/nginxRoutes";
import { startColorBackend, startColorBackends, type ColorBackend } from "../../harness/backends";
import { describeResult, runScript } from "../../harness/run";
import { COOKIE, crashes, get, inLanes, live, passive, startRouting, switchState, type RoutingSetup } from "./fixture";

const ALL_FILES = [LIVE_STATE_FILE, PASSIVE_STATE_FILE, ROUTER_FILE, SITE_FILE, UPSTREAMS_FILE].sort();

describe("routing: state mode specifics (real nginx, njs router)", function () {
    this.timeout(60_000);

    let blue: ColorBackend;
    let green: ColorBackend;
    /** Listens where a router that trusted the state file would send traffic. */
    let trap: ColorBackend;
    let routing: RoutingSetup;

    const workerStarts = () => (fs.readFileSync(routing.nginx.errorLog, "utf8").match(/start worker process \d+/g) ?? []).length;
    const many = (url: string, n: number, cookie?: string) => inLanes(Array.from({ length: n }, (_, i) => i), 4, (_i, agent) => get(url, { agent, cookie }));
    const statuses = (replies: { status: number; body: string }[]) => [...new Set(replies.map((r) => `${r.status} ${r.status === 200 ? r.body.trim() : ""}`.trim()))];

    before(async function () {
        ({ blue, green } = await startColorBackends());
        trap = await startColorBackend("trap", "x");
        routing = await startRouting("state", blue, green, {
            live: live("blue"),
            // No passive.state at first: a server whose first passive switch has not happened yet.
            passive: null,
            // An nginx upstream that is not a portal color.
            httpExtra: `upstream evil_upstream { server 127.0.0.1:${trap.port}; }`,
        });
    });

    after(async function () {
        await routing?.stop();
        await blue?.close();
        await green?.close();
        await trap?.close();
    });

    it("a missing state file: 502 on that listener only, no crash; switch-state.sh puts it back and 200 returns", async function () {
        const starts = workerStarts();
        assert.equal(fs.existsSync(routing.passiveFile), false);
        assert.deepEqual(statuses(await many(routing.passiveUrl, 20)), ["502"], "no passive.state: the passive listener answers 502");
        assert.deepEqual(statuses(await many(routing.liveUrl, 20)), ["200 blue v1"], "the live listener is unaffected");
        assert.match(fs.readFileSync(routing.nginx.errorLog, "utf8"), /portal-router: cannot read passive\.state/);

        await routing.setPassive(passive("green"));
        assert.deepEqual(statuses(await many(routing.passiveUrl, 20)), ["200 green v2"]);

        // Lost again (e.g. deleted by hand), then published again.
        fs.rmSync(routing.passiveFile);
        assert.deepEqual(statuses(await many(routing.passiveUrl, 20)), ["502"]);
        assert.deepEqual(statuses(await many(routing.liveUrl, 20)), ["200 blue v1"]);
        await routing.setPassive(passive("green"));
        assert.deepEqual(statuses(await many(routing.passiveUrl, 20)), ["200 green v2"]);

        assert.deepEqual(crashes(routing.nginx), []);
        assert.equal(workerStarts(), starts, "the nginx worker was never restarted");
        assert.equal(routing.nginx.reconfigurations(), routing.reloadsAtStart, "nor reloaded");
        assert.equal(trap.count(), 0);
    });

    it("switch-state.sh replaces the state atomically and leaves no temp file", async function () {
        await routing.setPassive(passive("green"));
        const r = await switchState(routing.liveFile, renderLiveState(live("green")));
        assert.equal(r.code, 0, describeResult(r));
        assert.equal(fs.readFileSync(routing.liveFile, "utf8"), renderLiveState(live("green")));
        assert.equal(fs.statSync(routing.liveFile).mode & 0o777, 0o644);
        assert.deepEqual(routing.portalEntries(), ALL_FILES);
        assert.deepEqual(statuses(await many(routing.liveUrl, 20)), ["200 green v2"]);
        await routing.setLive(live("blue"));
        assert.deepEqual(routing.portalEntries(), ALL_FILES);
        assert.deepEqual(statuses(await many(routing.liveUrl, 20)), ["200 blue v1"]);

        const missingDir = await runScript("switch-state.sh", [path.join(routing.nginx.prefix, "nowhere", LIVE_STATE_FILE)], { input: renderLiveState(live("green")) });
        assert.equal(missingDir.code, 1, describeResult(missingDir));
        assert.equal(fs.existsSync(path.join(routing.nginx.prefix, "nowhere")), false);
    });

    const refuse = async (label: string, content: string) => {
        const before = fs.readFileSync(routing.liveFile);
        const ino = fs.statSync(routing.liveFile).ino;
        const r = await switchState(routing.liveFile, content);
        assert.equal(r.code, 1, `${label}: ${describeResult(r)}`);
        assert.match(r.stderr, /switch-state: refusing .*not one routing-state JSON object on one line/, label);
        assert.deepEqual(fs.readFileSync(routing.liveFile), before, `${label}: live.state is byte-identical`);
        assert.equal(fs.statSync(routing.liveFile).ino, ino, `${label}: live.state was not replaced`);
        assert.deepEqual(routing.portalEntries(), ALL_FILES, `${label}: no temp file left`);
        assert.deepEqual(statuses(await many(routing.liveUrl, 10)), ["200 blue v1"], `${label}: still routed as before`);
    };

    it("switch-state.sh refuses anything but one JSON object on one line (exit 1, file unchanged, no temp file)", async function () {
        await routing.setLive(live("blue"));
        await routing.setPassive(passive("green"));
        for (const [label, content] of [
            ["empty input", ""],
            ["plain text", "portal_green\n"],
            ["a JSON string", '"portal_green"\n'],
            ["a JSON array", '["portal_green"]\n'],
            ["multi-line JSON", JSON.stringify({ upstream: "portal_green" }, null, 2) + "\n"],
            ["two states on two lines", renderLiveState(live("green")) + renderLiveState(live("blue", 50))],
            ["leading whitespace", " " + renderLiveState(live("green"))],
        ] as const) {
            await refuse(label, content);
        }
    });

    // The router would fail to parse such a state and answer 502 for every request of that
    // listener, and this mode has no `nginx -t`: switch-state.sh must refuse it.
    it("switch-state.sh refuses a one-line state that starts with '{' but is not JSON", async function () {
        await routing.setLive(live("blue"));
        await routing.setPassive(passive("green"));
        for (const [label, content] of [
            ["unquoted upstream", '{"upstream": portal_green}\n'],
            ["truncated object", '{"upstream":"portal_green"\n'],
            ["trailing garbage", '{"upstream":"portal_green"} x\n'],
        ] as const) {
            await refuse(label, content);
        }
    });

    it("a hostile upstream name in a state is never proxied to (router answers portal_unrouted → 502)", async function () {
        await routing.setLive(live("blue"));
        const hostile = ["evil.example.com", `127.0.0.1:${trap.port}`, "evil_upstream", "portal_green.evil.example.com", 42];
        // A state written past switch-state.sh (by hand, or by another tool): the atomic
        // rename the script would do, without its grammar check.
        const writeDirectly = (file: string, content: string) => {
            fs.writeFileSync(`${file}.hand`, content);
            fs.renameSync(`${file}.hand`, file);
        };
        for (const upstream of hostile) {
            const content = JSON.stringify({ upstream }) + "\n";
            const r = await switchState(routing.passiveFile, content);
            // The script refuses names outside its grammar; a well-formed name it cannot judge.
            assert.equal(r.code, upstream === "evil_upstream" ? 0 : 1, `switch-state.sh on ${JSON.stringify(upstream)}: ${describeResult(r)}`);
            writeDirectly(routing.passiveFile, content);
            assert.deepEqual(statuses(await many(routing.passiveUrl, 10)), ["502"], `passive upstream ${JSON.stringify(upstream)}`);
        }
        // A hostile canary is ignored: the state's own upstream gets everything.
        for (const [upstream, sticky] of [
            ["evil.example.com", false],
            [`127.0.0.1:${trap.port}`, false],
            [`127.0.0.1:${trap.port}`, true],
            ["evil_upstream", false],
        ] as const) {
            const content = JSON.stringify({ upstream: "portal_blue", canary: { upstream, basisPoints: 10000, sticky, cookie: COOKIE } }) + "\n";
            writeDirectly(routing.liveFile, content);
            assert.deepEqual(statuses(await many(routing.liveUrl, 10, `${COOKIE}=abc`)), ["200 blue v1"], `canary upstream ${upstream}`);
        }
        assert.equal(trap.count(), 0, "nothing reached the trap backend");
        const log = fs.readFileSync(routing.nginx.errorLog, "utf8");
        assert.doesNotMatch(log, /evil/, "nginx never tried to resolve or reach a hostile name");
        assert.match(log, /portal_unrouted/, "the router answered portal_unrouted");
        assert.deepEqual(crashes(routing.nginx), []);

        await routing.setLive(live("blue"));
        await routing.setPassive(passive("green"));
        assert.deepEqual(statuses(await many(routing.passiveUrl, 10)), ["200 green v2"]);
        assert.equal(fs.readFileSync(routing.passiveFile, "utf8"), renderPassiveState(passive("green")));
    });
});
