// Sticky canary through a real nginx, in both switching modes: a client keeps its side for as
// long as it sends the same portal_client cookie, and a client without the cookie is keyed on
// its address. The side of every key is also predicted independently of nginx (MurmurHash2 as
// split_clients uses it in reload mode, FNV-1a mod 10000 as the njs router uses it in state
// mode), so a wrong key (another cookie, the whole Cookie header, a constant) is caught.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { binomialBound } from "../../harness/load";
import { COOKIE, MODES, crashes, firstCanaryPercent, get, inLanes, live, predictedCanary, routingForSuite } from "./fixture";

const CLIENTS = 200;
const REQUESTS_PER_CLIENT = 5;
const P = 0.2;

for (const mode of MODES) {
    describe(`routing: sticky canary, ${mode} mode (real nginx)`, function () {
        this.timeout(60_000);

        const suite = routingForSuite(mode, { live: live("blue", P * 100, "sticky") });

        it(`${CLIENTS} cookie clients × ${REQUESTS_PER_CLIENT} requests at 20%: each stays on one side; green clients within 40 ± 4·sqrt(200·0.2·0.8) (±${binomialBound(CLIENTS, P).toFixed(1)})`, async function () {
            await suite.routing.setLive(live("blue", P * 100, "sticky"));
            const values = Array.from({ length: CLIENTS }, () => randomBytes(12).toString("hex"));
            const sides = await inLanes(values.map((v, i) => [v, i] as const), 8, async ([value, i], agent) => {
                // Half the clients send other cookies around theirs, as browsers do.
                const cookie = i % 2 ? `theme=dark; ${COOKIE}=${value}; lang=en` : `${COOKIE}=${value}`;
                const replies = [];
                for (let k = 0; k < REQUESTS_PER_CLIENT; k++) replies.push(await get(suite.routing.liveUrl, { agent, cookie }));
                return replies;
            });
            let greenClients = 0;
            const mispredicted: string[] = [];
            sides.forEach((replies, i) => {
                const value = values[i]!;
                assert.deepEqual(replies.map((r) => r.status), Array(REQUESTS_PER_CLIENT).fill(200), `client ${value}`);
                const colors = new Set(replies.map((r) => r.color));
                assert.equal(colors.size, 1, `client ${value} was answered by ${[...colors].join(" and ")}`);
                const color = [...colors][0];
                if (color === "green") greenClients++;
                if ((color === "green") !== predictedCanary(mode, value, P * 100)) mispredicted.push(`${value}→${color}`);
            });
            const bound = binomialBound(CLIENTS, P);
            console.log(`    routing sticky: mode=${mode} asked=20% clients=${CLIENTS} green clients=${greenClients} measured=${((100 * greenClients) / CLIENTS).toFixed(1)}% (expected 40 ±${bound.toFixed(1)})`);
            assert.ok(greenClients > 0 && greenClients < CLIENTS, "different cookies spread over both sides");
            assert.ok(Math.abs(greenClients - CLIENTS * P) <= bound, `${greenClients} of ${CLIENTS} clients on green`);
            assert.deepEqual(mispredicted, [], `sides that differ from the ${mode === "reload" ? "MurmurHash2" : "FNV-1a"} of the cookie value`);
            assert.deepEqual(crashes(suite.routing.nginx), []);
        });

        it("a client without the cookie is keyed on its address: all its requests on one side, which moves as a whole with the share", async function () {
            // 127.0.0.1 goes to the canary from this share on (computed, not observed).
            const edge = firstCanaryPercent(mode, "127.0.0.1");
            assert.ok(edge > 1 && edge < 99, `test setup: 127.0.0.1 must be movable (first canary share ${edge}%)`);
            const noCookie = [undefined, "", `${COOKIE}=`, "theme=dark; lang=en", "portal_client_x=abc"];
            for (const [percent, expected] of [
                [Math.max(0.01, Math.floor(edge) - 1), "blue"],
                [Math.min(99.99, Math.ceil(edge) + 1), "green"],
            ] as const) {
                await suite.routing.setLive(live("blue", percent, "sticky"));
                const replies = await inLanes(Array.from({ length: 60 }, (_, i) => i), 4, async (i, agent) => {
                    const cookie = noCookie[i % noCookie.length];
                    // Fresh connections and keep-alive ones alike.
                    return get(suite.routing.liveUrl, { agent: i % 3 ? agent : undefined, cookie });
                });
                const colors = replies.map((r) => `${r.status} ${r.color}`);
                assert.deepEqual([...new Set(colors)], [`200 ${expected}`], `canary ${percent}%: cookieless requests from 127.0.0.1`);
                // Meanwhile clients with cookies still spread over both sides.
                const withCookies = await inLanes(Array.from({ length: 40 }, (_, i) => i), 4, (i, agent) =>
                    get(suite.routing.liveUrl, { agent, cookie: `${COOKIE}=spread-${i}` }),
                );
                const expectGreen = withCookies.map((_r, i) => predictedCanary(mode, `spread-${i}`, percent));
                assert.deepEqual(
                    withCookies.map((r) => r.color === "green"),
                    expectGreen,
                    `canary ${percent}%: cookie clients follow their own cookie, not the address`,
                );
                assert.ok(expectGreen.includes(true) && expectGreen.includes(false), "test setup: the cookie clients span both sides");
            }
        });
    });
}
