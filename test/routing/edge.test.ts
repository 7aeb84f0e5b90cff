// The edge through a real nginx, in both switching modes: edge-upstreams.conf from
// renderEdgeUpstreams (one upstream per track over both "servers", 127.0.0.1 and 127.0.0.2),
// edge-site.conf from renderEdgeSite, and the split from edgeRoute published with the real
// scripts (edge-live.conf through switch-route.sh, edge-live.state through switch-state.sh);
// see tracks-fixture.ts. Each track's live listener on each server is a backend answering
// "<track> <server address>".
//
// Shares: within binomialBound(n, p) = 4·sqrt(n·p·(1-p)) of n·p (a correct split fails this
// about once in 16,000 runs); 0% sends exactly nothing to py3, 100% exactly everything.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { binomialBound, startLoad, summarize, switchUnderLoad, windowShares } from "../../harness/load";
import { COOKIE, MODES, crashes, get, inLanes, predictedCanary, type Mode } from "./fixture";
import { MAIN, PY3, SERVER_HOSTS, startEdge, type EdgeSetup } from "./tracks-fixture";

interface ShareCase {
    percent: number;
    requests: number;
}

// 0.5% of 10,000: 50 expected, bound ±28.2 — tells 0.5% from 0 and from 1%.
const SHARES: ShareCase[] = [
    { percent: 0, requests: 1000 },
    { percent: 0.5, requests: 10_000 },
    { percent: 5, requests: 2000 },
    { percent: 50, requests: 2000 },
    { percent: 100, requests: 500 },
];

const STICKY_CLIENTS = 200;
const STICKY_REQUESTS = 5;
const STICKY_PERCENT = 20;

/** Under load: the split moves 0 → 5 → 50 → 100 → 0. */
const SEQUENCE = [5, 50, 100, 0];
const LOAD_CLIENTS: Record<Mode, { keepAliveClients: number; freshClients: number }> = {
    reload: { keepAliveClients: 0, freshClients: 4 },
    state: { keepAliveClients: 3, freshClients: 3 },
    lua: { keepAliveClients: 3, freshClients: 3 },
};
const WINDOW_REQUESTS = 200;
const MAX_DWELL_MS = 4000;

for (const mode of MODES) {
    describe(`edge: split between tracks, ${mode} mode (real nginx)`, function () {
        this.timeout(90_000);

        let edge: EdgeSetup;
        /** Per track, per server host: requests answered so far. */
        const perServer = () => Object.fromEntries([MAIN, PY3].map((t) => [t, edge.backends[t]!.map((b) => b.count())]));
        const delta = (before: Record<string, number[]>) => {
            const now = perServer();
            return Object.fromEntries(Object.entries(now).map(([t, cs]) => [t, cs.map((c, i) => c - before[t]![i]!)]));
        };
        /** Both servers of every track that got at least 20 requests carry a fair part of them (round robin). */
        const assertBothServers = (d: Record<string, number[]>, label: string) => {
            for (const [t, cs] of Object.entries(d)) {
                const total = cs.reduce((a, b) => a + b, 0);
                if (total < 20) continue;
                cs.forEach((c, i) => assert.ok(c >= total / 4, `${label}: ${t} on ${SERVER_HOSTS[i]} answered ${c} of ${total}: ${JSON.stringify(d)}`));
            }
        };

        before(async function () {
            edge = await startEdge(mode);
        });

        after(async function () {
            await edge?.stop();
        });

        for (const { percent, requests } of SHARES) {
            const p = percent / 100;
            const claim =
                percent === 0 ? "exactly nothing to py3" : percent === 100 ? "exactly everything to py3" : `py3 within n·p ± 4·sqrt(n·p·(1-p)) (±${binomialBound(requests, p).toFixed(1)} at n=${requests})`;
            it(`split ${percent}% over ~${requests} requests: ${claim}; both servers of a track get its traffic`, async function () {
                await edge.setSplit(percent);
                const before = perServer();
                // Ends at `requests`; the time limit only bounds a machine too loaded to get there.
                this.timeout(120_000);
                const load = startLoad({ url: edge.publicUrl, keepAliveClients: 6, freshClients: 0, durationMs: 90_000, maxRequests: requests });
                const s = summarize(await load.done);
                const d = delta(before);
                assert.equal(s.failures, 0, JSON.stringify(s));
                assert.deepEqual(Object.keys(s.byColor).filter((t) => t !== MAIN && t !== PY3), [], `only the two tracks answer: ${JSON.stringify(s.byColor)}`);
                const n = s.requests;
                const g = s.byColor[PY3] ?? 0;
                const bound = binomialBound(n, p);
                console.log(
                    `    edge share: mode=${mode} asked=${percent}% n=${n} py3=${g} measured=${((100 * g) / n).toFixed(2)}% (expected ${(n * p).toFixed(0)} ±${bound.toFixed(1)}) ` +
                        `servers main=${d[MAIN]!.join("/")} py3=${d[PY3]!.join("/")}`,
                );
                assert.ok(n >= requests, `only ${n} requests in 90 s`);
                assert.deepEqual(
                    Object.fromEntries(Object.entries(d).map(([t, cs]) => [t, cs.reduce((a, b) => a + b, 0)])),
                    { [MAIN]: s.byColor[MAIN] ?? 0, [PY3]: g },
                    "the backends answered exactly the replies seen",
                );
                if (percent === 0) assert.equal(g, 0, "split 0%: not one request to py3");
                else if (percent === 100) assert.equal(g, n, "split 100%: every request to py3");
                else assert.ok(Math.abs(g - n * p) <= bound, `py3 ${g} of ${n}: expected ${n * p} ± ${bound.toFixed(1)}`);
                assertBothServers(d, `split ${percent}%`);
                assert.deepEqual(crashes(edge.nginx), []);
            });
        }

        it(`sticky split ${STICKY_PERCENT}%: ${STICKY_CLIENTS} cookie clients × ${STICKY_REQUESTS} requests each stay on one track; py3 clients within ±${binomialBound(STICKY_CLIENTS, STICKY_PERCENT / 100).toFixed(1)} of ${(STICKY_CLIENTS * STICKY_PERCENT) / 100}`, async function () {
            await edge.setSplit(STICKY_PERCENT, "sticky");
            const values = Array.from({ length: STICKY_CLIENTS }, () => randomBytes(12).toString("hex"));
            const sides = await inLanes(values.map((v, i) => [v, i] as const), 8, async ([value, i], agent) => {
                // Half the clients send other cookies around theirs, as browsers do.
                const cookie = i % 2 ? `theme=dark; ${COOKIE}=${value}; lang=en` : `${COOKIE}=${value}`;
                const replies = [];
                for (let k = 0; k < STICKY_REQUESTS; k++) replies.push(await get(edge.publicUrl, { agent, cookie }));
                return replies;
            });
            let py3Clients = 0;
            const mispredicted: string[] = [];
            sides.forEach((replies, i) => {
                const value = values[i]!;
                assert.deepEqual(replies.map((r) => r.status), Array(STICKY_REQUESTS).fill(200), `client ${value}`);
                const tracks = new Set(replies.map((r) => r.color));
                assert.equal(tracks.size, 1, `client ${value} was answered by ${[...tracks].join(" and ")}`);
                const track = [...tracks][0];
                if (track === PY3) py3Clients++;
                if ((track === PY3) !== predictedCanary(mode, value, STICKY_PERCENT)) mispredicted.push(`${value}→${track}`);
            });
            const p = STICKY_PERCENT / 100;
            const bound = binomialBound(STICKY_CLIENTS, p);
            console.log(
                `    edge sticky: mode=${mode} asked=${STICKY_PERCENT}% clients=${STICKY_CLIENTS} py3 clients=${py3Clients} measured=${((100 * py3Clients) / STICKY_CLIENTS).toFixed(1)}% (expected ${STICKY_CLIENTS * p} ±${bound.toFixed(1)})`,
            );
            assert.ok(Math.abs(py3Clients - STICKY_CLIENTS * p) <= bound, `${py3Clients} of ${STICKY_CLIENTS} clients on py3`);
            // The side of each cookie, computed independently of nginx (fixture.ts): catches a split keyed on anything else.
            assert.deepEqual(mispredicted, [], `sides that differ from the ${mode === "reload" ? "MurmurHash2" : "FNV-1a"} of the cookie value`);
            assert.deepEqual(crashes(edge.nginx), []);
        });

        it("the per-track test listeners (edge.trackPorts) reach only their track, whatever the split", async function () {
            assert.deepEqual(Object.keys(edge.trackUrl).sort(), [MAIN, PY3]);
            // At 0% the public listener sends nothing to py3, at 100% nothing to main: the test listeners must not follow it.
            for (const percent of [0, 100]) {
                await edge.setSplit(percent);
                for (const track of [MAIN, PY3]) {
                    const before = perServer();
                    const replies = await inLanes(Array.from({ length: 80 }, (_, i) => i), 4, (i, agent) => get(edge.trackUrl[track]!, { agent: i % 3 ? agent : undefined }));
                    const seen = [...new Set(replies.map((r) => `${r.status} ${r.color}`))];
                    assert.deepEqual(seen, [`200 ${track}`], `split ${percent}%: the ${track} test listener`);
                    const d = delta(before);
                    const other = track === MAIN ? PY3 : MAIN;
                    assert.deepEqual(d[other], [0, 0], `split ${percent}%: the ${track} test listener sent nothing to ${other}`);
                    assertBothServers(d, `split ${percent}%, ${track} test listener`);
                }
                const pub = await inLanes(Array.from({ length: 20 }, (_, i) => i), 4, (_i, agent) => get(edge.publicUrl, { agent }));
                assert.deepEqual([...new Set(pub.map((r) => `${r.status} ${r.color}`))], [`200 ${percent === 0 ? MAIN : PY3}`], `split ${percent}%: the public listener`);
            }
        });

        const clients = LOAD_CLIENTS[mode];
        const who = mode === "reload" ? `${clients.freshClients} fresh-connection clients` : `${clients.keepAliveClients} keep-alive + ${clients.freshClients} fresh-connection clients`;
        it(`split changes 0 → 5 → 50 → 100 → 0 under ${who}: no failed request, each split takes effect${mode !== "reload" ? ", nginx never reloaded after setup" : ""}`, async function () {
            await edge.setSplit(0);
            const reloadsBefore = edge.nginx.reconfigurations();
            const load = startLoad({ url: edge.publicUrl, ...clients, durationMs: 45_000, maxRequests: 50_000 });
            const windows = await switchUnderLoad(load, SEQUENCE, (percent) => edge.setSplit(percent), { requests: WINDOW_REQUESTS, maxMs: MAX_DWELL_MS });
            const samples = await load.done;
            const summary = summarize(samples);
            const stats = windowShares(samples, windows, PY3);
            console.log(
                `    edge switches: mode=${mode} requests=${summary.requests} failures=${summary.failures} py3 per window ` +
                    stats.map(({ percent, n, g }) => `${percent}%: ${g}/${n}`).join(", "),
            );
            assert.equal(summary.failures, 0, `failed requests: ${JSON.stringify(summary)}`);
            for (const { percent, n, g } of stats) {
                assert.ok(n >= 50, `window at ${percent}% holds only ${n} requests`);
                if (percent === 0) assert.equal(g, 0, `${g} of ${n} requests went to py3 at 0%`);
                else if (percent === 100) assert.equal(g, n, `${n - g} of ${n} requests stayed on main at 100%`);
                else {
                    const bound = binomialBound(n, percent / 100);
                    assert.ok(Math.abs(g - (n * percent) / 100) <= bound, `at ${percent}%: ${g} of ${n} on py3, expected ${((n * percent) / 100).toFixed(1)} ± ${bound.toFixed(1)}`);
                }
            }
            assert.deepEqual(crashes(edge.nginx), []);
            if (mode !== "reload") {
                assert.equal(edge.nginx.reconfigurations(), edge.reloadsAtStart, "no reload since the setup: reload-free switches never reload nginx");
                assert.doesNotMatch(fs.readFileSync(edge.nginx.errorLog, "utf8"), /portal-router: cannot read/, "the router never saw a missing or partial state file");
                const keepAlive = samples.filter((s) => s.kind === "keepalive").length;
                assert.ok(keepAlive > 0 && samples.length - keepAlive > 0, "both kinds of client sent requests");
            } else {
                assert.equal(edge.nginx.reconfigurations(), reloadsBefore + SEQUENCE.length, "one reload per switch");
            }
        });
    });
}
