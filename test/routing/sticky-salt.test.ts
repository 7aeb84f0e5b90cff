// Sticky cohorts are drawn afresh per release, in every switching mode on a real nginx: the
// live route of a release carries its salt (a random.RandomId per release in the program),
// hashed before the client's cookie. Within a release a client stays on its side; two
// releases' canary cohorts at share p overlap in about n·p² clients (independent draws),
// where an unsalted hash would put the same n·p clients first every time. Each side is
// also predicted from the salted key independently of nginx.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { withSalt } from "../../lib/model/rollout";
import { binomialBound } from "../../harness/load";
import { COOKIE, MODES, crashes, get, inLanes, live, predictedCanary, routingForSuite } from "./fixture";

const CLIENTS = 1000;
const P = 0.2;
const SALT_A = "3f9c1a7be04d2265";
const SALT_B = "b81e44c0d9a37f10";

for (const mode of MODES) {
    describe(`routing: sticky cohorts per release (salted hash), ${mode} mode (real nginx)`, function () {
        this.timeout(120_000);

        const suite = routingForSuite(mode, { live: live("blue") });
        const values = Array.from({ length: CLIENTS }, () => randomBytes(12).toString("hex"));

        /** Each client's side under `salt`, asked twice on its own keep-alive connection (it must not move). */
        async function cohort(salt: string | undefined): Promise<Set<string>> {
            const route = live("blue", P * 100, "sticky");
            await suite.routing.setLive(salt === undefined ? route : withSalt(route, salt));
            const sides = await inLanes(values, 8, async (value, agent) => {
                const cookie = `${COOKIE}=${value}`;
                return [await get(suite.routing.liveUrl, { agent, cookie }), await get(suite.routing.liveUrl, { agent, cookie })];
            });
            const green = new Set<string>();
            const mispredicted: string[] = [];
            sides.forEach((replies, i) => {
                const value = values[i]!;
                assert.deepEqual(replies.map((r) => `${r.status} ${r.color}`).filter((x) => !/^200 (blue|green)$/.test(x)), [], `client ${value}`);
                assert.equal(new Set(replies.map((r) => r.color)).size, 1, `client ${value} changed sides within one release: ${replies.map((r) => r.color).join(", ")}`);
                const isGreen = replies[0]!.color === "green";
                if (isGreen) green.add(value);
                if (isGreen !== predictedCanary(mode, `${salt ?? ""}${value}`, P * 100)) mispredicted.push(value);
            });
            assert.deepEqual(mispredicted, [], `sides that differ from the hash of salt + cookie (salt ${salt})`);
            const bound = binomialBound(CLIENTS, P);
            assert.ok(Math.abs(green.size - CLIENTS * P) <= bound, `salt ${salt}: ${green.size} of ${CLIENTS} clients on green, expected ${CLIENTS * P} ± ${bound.toFixed(1)}`);
            return green;
        }

        it(`${CLIENTS} cookie clients at ${P * 100}%: stable within a release; two releases' cohorts overlap in ≈ n·p² = ${CLIENTS * P * P}, the same release's salt gives the same cohort`, async function () {
            const a = await cohort(SALT_A);
            const b = await cohort(SALT_B);
            const again = await cohort(SALT_A);
            const unsalted1 = await cohort(undefined);
            const unsalted2 = await cohort(undefined);
            const overlap = [...a].filter((v) => b.has(v)).length;
            const expected = CLIENTS * P * P;
            const bound = binomialBound(CLIENTS, P * P);
            console.log(`    sticky salt: mode=${mode} n=${CLIENTS} p=${P} cohort A=${a.size} B=${b.size} overlap=${overlap} (expected ${expected} ±${bound.toFixed(1)}); unsalted twice: ${unsalted1.size}/${unsalted2.size} identical`);
            assert.ok(Math.abs(overlap - expected) <= bound, `releases A and B share ${overlap} canary clients; independent cohorts share ${expected} ± ${bound.toFixed(1)}`);
            assert.deepEqual([...again].sort(), [...a].sort(), "publishing release A's route again brings back exactly its cohort");
            assert.deepEqual([...unsalted2].sort(), [...unsalted1].sort(), "without a salt the cohort never changes (the old behaviour)");
            assert.deepEqual(crashes(suite.routing.nginx), []);
        });
    });
}
