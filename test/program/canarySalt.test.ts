// Sticky canaries are salted per release: one random.RandomId per track, keyed on the
// canaried (passive) color and its tag, whose hex goes into the live route the servers
// publish. Under the mock runtime the RandomId's value is derived from its keepers (like
// the provider, a new value whenever they change: offline/evaluate.ts), so these tests see
// which releases share a salt and which draw a new one.
import assert from "node:assert/strict";
import { evaluate, mockRandomHex, type Evaluation } from "../../offline/evaluate";
import { steadyBlue, withMode, withRelease } from "../support/stacks";

const SALT = "random:index/randomId:RandomId";
const prepared = (tag = "2020.08.07-1") => withRelease(steadyBlue(), { tags: { green: tag }, passive: "green" });
const canary = (tag?: string) => withRelease(prepared(tag), { canary: 0.5 });

function byName(e: Evaluation, name: string) {
    return [...e.resources.values()].find((r) => r.name === name);
}

describe("program: sticky canary cohorts are drawn per release (random.RandomId)", function () {
    this.timeout(60_000);

    it("one RandomId per track, keyed on the canaried color and its tag; the live route carries its hex", async () => {
        const e = await evaluate(canary());
        const salt = byName(e, "portal-canary-salt");
        assert.equal(salt?.type, SALT);
        const keepers = { color: "green", tag: "2020.08.07-1" };
        assert.deepEqual(salt!.inputs, { byteLength: 8, keepers });
        assert.equal(salt!.parent, [...e.resources.values()].find((r) => r.type === "portal:index:Portal")!.urn);
        const hex = mockRandomHex(keepers, 8);
        for (const server of ["web1", "web2", "web3"]) {
            assert.equal(
                byName(e, `${server}-route-live`)!.inputs.stdin,
                `{"upstream":"portal_blue","canary":{"upstream":"portal_green","basisPoints":50,"sticky":true,"cookie":"portal_client","salt":"${hex}"}}\n`,
            );
        }
    });

    it("the same release keeps its salt as the share grows; the next release's canary gets another one", async () => {
        const at = async (config: Record<string, unknown>) => byName(await evaluate(config), "web1-route-live")!.inputs.stdin as string;
        const saltOf = (stdin: string) => /"salt":"([0-9a-f]+)"/.exec(stdin)?.[1];
        const first = saltOf(await at(canary()));
        const grown = saltOf(await at(withRelease(prepared(), { canary: 20 })));
        const next = saltOf(await at(canary("2020.08.09-1")));
        assert.ok(first && grown && next);
        assert.equal(grown, first, "one release, one cohort");
        assert.notEqual(next, first, "a new tag on the canaried color draws a new cohort");
    });

    it("reload mode renders the salt into split_clients' key; request-mode canaries have no salt resource", async () => {
        const e = await evaluate(withMode(canary(), "reload"));
        const hex = mockRandomHex({ color: "green", tag: "2020.08.07-1" }, 8);
        assert.match(byName(e, "web1-route-live")!.inputs.stdin as string, new RegExp(`split_clients "${hex}\\$\\{portal_client_key\\}" \\$portal_live`));

        const perRequest = canary();
        perRequest["portal:nginx"] = { ...(perRequest["portal:nginx"] as object), canary: { mode: "request" } };
        const r = await evaluate(perRequest);
        assert.equal([...r.resources.values()].filter((x) => x.type === SALT).length, 0);
        assert.doesNotMatch(byName(r, "web1-route-live")!.inputs.stdin as string, /salt/);
    });
});
