// The lua switching mode's resources for one server of the production stack (prepared,
// then a sticky canary), compared in full: the LuaJIT router's static file, the listeners
// that set their variables with set_by_lua, and the route switches through switch-lua.sh.

import assert from "node:assert/strict";
import { routerScriptSha256 } from "../../lib/nginx/routeModes";
import { evaluate, mockRandomHex, type Evaluation } from "../../offline/evaluate";
import { steadyBlue, withMode, withRelease } from "../support/stacks";
import { step, SWITCH } from "../support/stepInputs";

const SWITCH_LUA = (file: string) => `bash /srv/portal/scripts/switch-lua.sh /etc/nginx/portal/${file} /etc/nginx/portal/router.sock`;
function prepared() {
    const config = withMode(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" }), "lua");
    config["portal:nginx"] = { ...(config["portal:nginx"] as object), site: { address: "0.0.0.0", live: 8080, passive: 8081 } };
    return config;
}

describe("program: lua switching mode (production stack, one server)", function () {
    this.timeout(60_000);
    let e: Evaluation;
    const inputs = (name: string) => [...e.resources.values()].find((r) => r.name === name)?.inputs;

    before(async () => {
        e = await evaluate(prepared());
    });

    it("router.conf loads the LuaJIT router, its shared dictionary and the control socket; tested and reloaded once", () => {
        assert.deepEqual(
            inputs("web1-router"),
            step(
                SWITCH("router.conf"),
                "# Managed by Pulumi (project portal): reload-free routing through the LuaJIT router.\n" +
                `# portal_router.lua sha256 ${routerScriptSha256("portal_router.lua")}\n` +
                'lua_package_path "/srv/portal/scripts/?.lua;;";\n' +
                "lua_shared_dict portal_routes 1m;\n" +
                'init_by_lua_block { require("portal_router").init("/etc/nginx/portal") }\n' +
                'init_worker_by_lua_block { require("portal_router").seed() }\n' +
                "server {\n" +
                "    listen unix:/etc/nginx/portal/router.sock;\n" +
                "    access_log off;\n" +
                '    location = /sync { content_by_lua_block { require("portal_router").sync() } }\n' +
                "    location / { return 404; }\n" +
                "}\n",
            ),
        );
        assert.equal(inputs("web1-routes-init"), undefined);
    });

    it("each listener sets its own variable from the main track's routes", () => {
        const site = inputs("web1-site")!.stdin as string;
        assert.match(site, /listen 0\.0\.0\.0:8080;\n    set_by_lua_block \$portal_live \{ return require\("portal_router"\)\.route\("live", "portal_"\) \}\n    location \/ \{\n        proxy_pass http:\/\/\$portal_live;/);
        assert.match(site, /listen 0\.0\.0\.0:8081;\n    set_by_lua_block \$portal_passive \{ return require\("portal_router"\)\.route\("passive", "portal_"\) \}\n    location \/ \{\n        proxy_pass http:\/\/\$portal_passive;/);
    });

    it("the route switches go through switch-lua.sh with the state mode's files", async () => {
        assert.deepEqual(inputs("web1-route-passive"), step(SWITCH_LUA("passive.state"), '{"upstream":"portal_green"}\n'));
        assert.deepEqual(inputs("web1-route-live"), step(SWITCH_LUA("live.state"), '{"upstream":"portal_blue"}\n'));
        e = await evaluate(withRelease(prepared(), { canary: 0.5 }));
        const salt = mockRandomHex({ color: "green", tag: "2020.08.07-1" }, 8);
        assert.equal(inputs("web2-route-live")!.stdin, `{"upstream":"portal_blue","canary":{"upstream":"portal_green","basisPoints":50,"sticky":true,"cookie":"portal_client","salt":"${salt}"}}\n`);
        e = await evaluate(prepared());
    });
});
