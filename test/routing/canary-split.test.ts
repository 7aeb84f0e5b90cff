// Per-request canary shares through a real nginx, in both switching modes: blue live, green
// passive, canary percent of the live listener's requests to green. Each measured share must
// be within binomialBound(n, p) = 4·sqrt(n·p·(1-p)) of n·p (a correct split fails this about
// once in 16,000 runs); 0% must send exactly nothing to green. The passive listener must
// answer the passive color only, whatever the live canary.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { binomialBound, startLoad, summarize } from "../../harness/load";
import { MODES, crashes, get, inLanes, live, passive, routingForSuite } from "./fixture";

interface ShareCase {
    percent: number;
    requests: number;
}

// 0.5% of 10,000: 50 expected, bound ±28.2 — tells 0.5% from 0, 0.05% and 1%.
const CASES: ShareCase[] = [
    { percent: 0, requests: 2000 },
    { percent: 5, requests: 4000 },
    { percent: 50, requests: 4000 },
    { percent: 0.5, requests: 10000 },
];

for (const mode of MODES) {
    describe(`routing: per-request canary shares, ${mode} mode (real nginx)`, function () {
        this.timeout(60_000);

        const suite = routingForSuite(mode, { live: live("blue"), passive: passive("green") });

        for (const { percent, requests } of CASES) {
            const p = percent / 100;
            const claim = percent === 0 ? "exactly 0 green" : `green within n·p ± 4·sqrt(n·p·(1-p)) (±${binomialBound(requests, p).toFixed(1)} at n=${requests})`;
            it(`canary ${percent}% over ~${requests} requests: ${claim}`, async function () {
                await suite.routing.setLive(live("blue", percent, "request"));
                // Ends at `requests`; the time limit only bounds a machine too loaded to get there.
                this.timeout(120_000);
                const load = startLoad({ url: suite.routing.liveUrl, keepAliveClients: 6, freshClients: 0, durationMs: 90_000, maxRequests: requests });
                const s = summarize(await load.done);
                assert.equal(s.failures, 0, JSON.stringify(s));
                assert.deepEqual(
                    Object.keys(s.byColor).filter((c) => c !== "blue" && c !== "green"),
                    [],
                    `only the two colors answer: ${JSON.stringify(s.byColor)}`,
                );
                const n = s.requests;
                const g = s.byColor.green ?? 0;
                const bound = binomialBound(n, p);
                console.log(`    routing share: mode=${mode} asked=${percent}% n=${n} green=${g} measured=${((100 * g) / n).toFixed(2)}% (expected ${(n * p).toFixed(0)} ±${bound.toFixed(1)})`);
                assert.ok(n >= requests, `only ${n} requests in 90 s`);
                if (percent === 0) {
                    assert.equal(g, 0, "canary 0%: not one request to green");
                } else {
                    assert.ok(Math.abs(g - n * p) <= bound, `green ${g} of ${n}: expected ${n * p} ± ${bound.toFixed(1)}`);
                }
                assert.deepEqual(crashes(suite.routing.nginx), []);
            });
        }

        it("the passive listener answers the passive color only, whatever the live canary", async function () {
            const passiveBefore = fs.readFileSync(suite.routing.passiveFile);
            for (const [percent, split] of [[0, "request"], [5, "request"], [50, "request"], [95, "request"], [50, "sticky"]] as const) {
                await suite.routing.setLive(live("blue", percent, split));
                const blueBefore = suite.blue.count();
                const greenBefore = suite.green.count();
                const replies = await inLanes(Array.from({ length: 300 }, (_, i) => i), 4, (i, agent) =>
                    get(suite.routing.passiveUrl, { agent, cookie: i % 2 ? `portal_client=c${i}` : undefined }),
                );
                const wrong = replies.filter((r) => r.status !== 200 || r.body !== "green v2\n");
                assert.deepEqual(wrong.slice(0, 3), [], `live canary ${percent}% ${split}: ${wrong.length} of 300 passive replies were not "green v2"`);
                assert.equal(suite.blue.count() - blueBefore, 0, "the passive listener sent nothing to blue");
                assert.equal(suite.green.count() - greenBefore, 300);
                // Meanwhile the live listener does split (so passive is not merely the same route as live).
                if (percent === 50 && split === "request") {
                    const liveReplies = await inLanes(Array.from({ length: 100 }, (_, i) => i), 4, (_i, agent) => get(suite.routing.liveUrl, { agent }));
                    const liveGreen = liveReplies.filter((r) => r.color === "green").length;
                    assert.ok(liveGreen > 10 && liveGreen < 90, `live at 50% canary: ${liveGreen} of 100 green`);
                }
            }
            assert.deepEqual(fs.readFileSync(suite.routing.passiveFile), passiveBefore, "live switches never rewrote the passive route");
        });
    });
}
