// Switching the canary share while a bounded, non-retrying load runs through a real nginx:
// 0 → 5 → 50 → 0, twice, with the real scripts. Not one request may fail, and each
// share must take effect: a request that *started* after a switch had taken effect (state:
// switch-state.sh returned; reload: switch-route.sh returned and the old nginx worker has
// exited) and ended before the next switch began is counted for that share — exactly 0 green
// at 0%, within 4·sqrt(n·p·(1-p)) of n·p at 5% and 50%.
//
// reload mode: fresh-connection clients only (a reload resets idle keep-alive connections by
// design; that is another test's business). state mode: keep-alive clients and fresh clients,
// and nginx is never reloaded.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { binomialBound, startLoad, summarize, switchUnderLoad, windowShares } from "../../harness/load";
import { MODES, crashes, live, routingForSuite, type Mode } from "./fixture";

const SEQUENCE = [5, 50, 0, 5, 50, 0];
const CLIENTS: Record<Mode, { keepAliveClients: number; freshClients: number }> = {
    reload: { keepAliveClients: 0, freshClients: 4 },
    state: { keepAliveClients: 3, freshClients: 3 },
    lua: { keepAliveClients: 3, freshClients: 3 },
};
/** Requests to see in each window before the next switch (or at most MAX_DWELL_MS). */
const WINDOW_REQUESTS = 250;
const MAX_DWELL_MS = 4000;

for (const mode of MODES) {
    describe(`routing: canary switches under load, ${mode} mode (real nginx)`, function () {
        this.timeout(90_000);

        const suite = routingForSuite(mode, { live: live("blue") });

        const clients = CLIENTS[mode];
        const who = mode === "reload" ? `${clients.freshClients} fresh-connection clients` : `${clients.keepAliveClients} keep-alive + ${clients.freshClients} fresh-connection clients`;
        it(`switches 0 → 5 → 50 → 0 (×2) under ${who}: no failed request, each share takes effect${mode !== "reload" ? ", nginx never reloaded" : ""}`, async function () {
            const reloadsBefore = nginx().reconfigurations();
            const load = startLoad({ url: suite.routing.liveUrl, ...clients, durationMs: 60_000, maxRequests: 100_000 });
            const windows = await switchUnderLoad(load, SEQUENCE, (percent) => suite.routing.setLive(live("blue", percent, "request")), { requests: WINDOW_REQUESTS, maxMs: MAX_DWELL_MS });
            const samples = await load.done;
            const summary = summarize(samples);
            const stats = windowShares(samples, windows, "green");
            console.log(
                `    routing switches: mode=${mode} requests=${summary.requests} failures=${summary.failures} green per window ` +
                    stats.map(({ percent, n, g }) => `${percent}%: ${g}/${n}`).join(", "),
            );
            assert.equal(summary.failures, 0, `failed requests: ${JSON.stringify(summary)}`);
            const byPercent = new Map<number, { n: number; g: number }>();
            for (const { percent, n, g } of stats) {
                const total = byPercent.get(percent) ?? { n: 0, g: 0 };
                byPercent.set(percent, { n: total.n + n, g: total.g + g });
                assert.ok(n >= 50, `window at ${percent}% holds only ${n} requests`);
                if (percent === 0) {
                    assert.equal(g, 0, `${g} of ${n} requests went to green after the switch to 0%`);
                } else {
                    const bound = binomialBound(n, percent / 100);
                    assert.ok(Math.abs(g - (n * percent) / 100) <= bound, `at ${percent}%: ${g} of ${n} green, expected ${((n * percent) / 100).toFixed(1)} ± ${bound.toFixed(1)}`);
                }
            }
            // All windows of one share together (a 5% window of ~300 requests alone cannot tell 5% from 0).
            for (const [percent, { n, g }] of byPercent) {
                const p = percent / 100;
                const bound = binomialBound(n, p);
                assert.ok(Math.abs(g - n * p) <= bound, `all ${percent}% windows: ${g} of ${n} green, expected ${(n * p).toFixed(1)} ± ${bound.toFixed(1)}`);
            }

            const log = fs.readFileSync(nginx().errorLog, "utf8");
            assert.deepEqual(crashes(nginx()), []);
            if (mode !== "reload") {
                assert.equal(nginx().reconfigurations(), reloadsBefore, "reload-free switches never reload nginx");
                assert.equal(reloadsBefore, suite.routing.reloadsAtStart);
                assert.doesNotMatch(log, /portal-router: cannot read/, "the router never saw a missing or partial state file");
                const keepAlive = samples.filter((s) => s.kind === "keepalive").length;
                assert.ok(keepAlive > 0 && samples.length - keepAlive > 0, "both kinds of client sent requests");
            } else {
                assert.equal(nginx().reconfigurations(), reloadsBefore + SEQUENCE.length, "one reload per switch");
            }
        });

        const nginx = () => suite.routing.nginx;
    });
}
