// The switching modes are one table (lib/nginx/routeModes.ts): validation takes its names, an
// unknown name is an error rather than a silent fallback, and each mode answers for its own
// files, router, edge listener and preview reading.

import assert from "node:assert/strict";
import { ConfigError, validateConfig } from "../../lib/config/config";
import { DEFAULT_ROUTE_MODE } from "../../lib/config/configRules";
import { ROUTE_MODES, ROUTE_MODE_NAMES, routeMode, type RouteModeName } from "../../lib/nginx/routeModes";
import { liveRoute, passiveRoute } from "../../lib/model/rollout";
import { tracksOf } from "../../lib/model/tracks";
import { loadStack } from "../support/stacks";

function production(mode?: string): Record<string, unknown> {
    const raw: Record<string, any> = {};
    for (const [key, value] of Object.entries(loadStack("production"))) raw[key.replace(/^portal:/, "")] = structuredClone(value);
    if (mode !== undefined) raw.nginx.mode = mode;
    return raw;
}

describe("switching modes: one table", () => {
    it("each entry is named by its key; the default is one of them", () => {
        for (const [name, mode] of Object.entries(ROUTE_MODES)) assert.equal(mode.name, name);
        assert.ok(ROUTE_MODE_NAMES.includes(DEFAULT_ROUTE_MODE));
        assert.equal(ROUTE_MODE_NAMES[0], DEFAULT_ROUTE_MODE);
    });

    it("validation accepts exactly the table's names and lists them when refusing", () => {
        for (const name of ROUTE_MODE_NAMES) assert.equal(validateConfig(production(name)).nginx.mode, name);
        assert.throws(() => validateConfig(production("haproxy")), (e: unknown) => e instanceof ConfigError && e.message.includes(`portal:nginx.mode is "haproxy"; allowed: ${ROUTE_MODE_NAMES.join(", ")}`));
    });

    it("an unknown name is an error, never another mode", () => {
        assert.throws(() => routeMode("haproxy" as RouteModeName), /unknown switching mode "haproxy"; known: state, reload, lua/);
    });

    it("each mode reads its own route files back for the preview", () => {
        for (const name of ROUTE_MODE_NAMES) {
            const config = validateConfig(production(name));
            const track = tracksOf(config)[0];
            const mode = routeMode(name);
            assert.equal(mode.describeRoute(mode.passive(passiveRoute(config, track), track).content), "portal_green", name);
            const canary = { ...config, release: { ...config.release, canary: 5 } };
            assert.equal(mode.describeRoute(mode.live(liveRoute(canary, tracksOf(canary)[0]), track).content), "portal_blue, 5% to portal_green (sticky per client)", name);
        }
    });

    it("the router and the route-init step belong to the modes that have them", () => {
        const config = validateConfig(production());
        assert.deepEqual(ROUTE_MODE_NAMES.map((n) => [n, routeMode(n).router?.(config, "/srv/portal").file, routeMode(n).initRoutes !== undefined, routeMode(n).module]), [
            ["state", "router.conf", false, "njs"],
            ["reload", undefined, true, undefined],
            ["lua", "router.conf", false, "lua"],
        ]);
    });
});
