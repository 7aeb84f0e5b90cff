// Bad config is refused before any resource is declared, with a message naming the key
// and the allowed values.

import assert from "node:assert/strict";
import { ConfigError, validateConfig, type RawConfig } from "../../lib/config/config";
import { loadStack } from "../support/stacks";
import { PINNED_ENV } from "../release/fixtures";

function production(): RawConfig {
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(loadStack("production"))) raw[key.replace(/^portal:/, "")] = structuredClone(value);
    return raw;
}

type Edit = (raw: any) => void;

function refused(edit: Edit): ConfigError {
    const raw = production();
    edit(raw);
    try {
        validateConfig(raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e;
    }
    assert.fail("the config was accepted");
}

const CASES: { name: string; edit: Edit; key: string; allowed: RegExp }[] = [
    { name: "unknown live color", edit: (r) => (r.release.live = "purple"), key: "portal:release.live", allowed: /allowed: blue, green/ },
    { name: "unknown color in tags", edit: (r) => (r.release.tags.red = "1.0"), key: "portal:release.tags.red", allowed: /allowed: blue, green/ },
    { name: "passive tag missing", edit: (r) => delete r.release.tags.green, key: "portal:release.tags.green", allowed: /passive color green needs a tag/ },
    { name: "live tag missing", edit: (r) => delete r.release.tags.blue, key: "portal:release.tags.blue", allowed: /live color blue needs a tag/ },
    { name: "canary above 100", edit: (r) => (r.release.canary = 150), key: "portal:release.canary", allowed: /0 to 99.99 with at most two decimals/ },
    { name: "canary of 100", edit: (r) => (r.release.canary = 100), key: "portal:release.canary", allowed: /100% is a deploy/ },
    { name: "canary negative", edit: (r) => (r.release.canary = -1), key: "portal:release.canary", allowed: /0 to 99.99/ },
    { name: "canary with three decimals", edit: (r) => (r.release.canary = 0.125), key: "portal:release.canary", allowed: /at most two decimals/ },
    { name: "canary while passive equals live", edit: (r) => Object.assign(r.release, { passive: "blue", canary: 5 }), key: "portal:release.canary", allowed: /allowed: 0 outside a rollout/ },
    { name: "tag outside Docker's grammar", edit: (r) => (r.release.tags.green = "2020 08;rm -rf"), key: "portal:release.tags.green", allowed: /Docker tag/ },
    { name: "tag starting with a dot", edit: (r) => (r.release.tags.green = ".hidden"), key: "portal:release.tags.green", allowed: /Docker tag/ },
    { name: "image with a tag", edit: (r) => (r.image = "registry.example.com/portal:latest"), key: "portal:image", allowed: /without tag or digest/ },
    { name: "host with shell characters", edit: (r) => (r.servers[1].host = "10.0.0.12;reboot"), key: "portal:servers[1].host", allowed: /hostname or IPv4/ },
    { name: "server name with a space", edit: (r) => (r.servers[0].name = "web 1"), key: "portal:servers[0].name", allowed: /lowercase letters, digits and '-'/ },
    { name: "confDir with nginx syntax", edit: (r) => (r.nginx.confDir = "/etc/nginx/portal;include /x"), key: "portal:nginx.confDir", allowed: /absolute path/ },
    { name: "relative dir", edit: (r) => (r.dir = "srv/portal"), key: "portal:dir", allowed: /absolute path/ },
    { name: "dir escaping with ..", edit: (r) => (r.dir = "/srv/../etc"), key: "portal:dir", allowed: /without '..'/ },
    { name: "health path with a quote", edit: (r) => (r.app.healthPath = "/health'"), key: "portal:app.healthPath", allowed: /URL path/ },
    { name: "reload command with a shell operator", edit: (r) => (r.nginx.reload = "nginx -s reload && curl evil"), key: "portal:nginx.reload", allowed: /plain words/ },
    { name: "duplicate server names", edit: (r) => (r.servers[2].name = "web1"), key: "portal:servers", allowed: /unique names/ },
    { name: "duplicate host ports", edit: (r) => (r.app.hostPorts.green = 8001), key: "portal:app.hostPorts", allowed: /two different ports/ },
    { name: "no primary", edit: (r) => (r.servers[0].primary = false), key: "portal:servers", allowed: /0 primary servers \(none\); allowed: exactly one/ },
    { name: "two primaries", edit: (r) => (r.servers[1].primary = true), key: "portal:servers", allowed: /2 primary servers \(web1, web2\)/ },
    { name: "worker role with no command", edit: (r) => r.servers[1].workers = ["mailer"], key: "portal:servers[1].workers[0]", allowed: /worker role with no command; allowed: djobs, cron/ },
    { name: "worker with an empty command", edit: (r) => (r.workers.cron.command = []), key: "portal:workers.cron.command", allowed: /non-empty list/ },
    { name: "unknown top-level key", edit: (r) => (r.relase = {}), key: "portal:relase", allowed: /not a known key/ },
    { name: "a color's env for a color the track lacks", edit: (r) => (r.release.env.red = {}), key: "portal:release.env.red", allowed: /allowed: blue, green/ },
    { name: "a color's env with a bad name", edit: (r) => (r.release.env.green["BAD-NAME"] = "x"), key: "portal:release.env.green.BAD-NAME", allowed: /environment variable name/ },
    { name: "a color's env value with a newline", edit: (r) => (r.release.env.green.X = "a\nb"), key: "portal:release.env.green.X", allowed: /without newline or NUL/ },
    { name: "a color's secrets for a color whose env is not pinned", edit: (r) => { delete r.release.env.green; r.colorSecrets = { green: { DB: "x" } }; }, key: "portal:colorSecrets.green", allowed: /no release pins green's env \(release\.env\.green\), so no container reads it; allowed: blue/ },
    { name: "a color's secrets not a map", edit: (r) => (r.colorSecrets = { blue: "x" }), key: "portal:colorSecrets.blue", allowed: /a map of NAME: secret value/ },
    { name: "misspelt nested key", edit: (r) => (r.app.helthPath = "/health"), key: "portal:app.helthPath", allowed: /not a known key/ },
    { name: "port out of range", edit: (r) => (r.ssh.port = 70000), key: "portal:ssh.port", allowed: /integer from 1 to 65535/ },
    { name: "canary mode unknown", edit: (r) => (r.nginx.canary.mode = "random"), key: "portal:nginx.canary.mode", allowed: /allowed: request, sticky/ },
    { name: "state mode on the local target", edit: (r) => Object.assign(r, { target: "local" }), key: "portal:nginx.mode", allowed: /allowed: reload/ },
    { name: "lua mode on the local target", edit: (r) => Object.assign(r, { target: "local", nginx: { ...r.nginx, mode: "lua" } }), key: "portal:nginx.mode", allowed: /is lua with target local; allowed: reload/ },
    { name: "unknown switching mode", edit: (r) => (r.nginx.mode = "haproxy"), key: "portal:nginx.mode", allowed: /allowed: state, reload, lua/ },
    { name: "keep-alive pool of 0", edit: (r) => (r.nginx.keepalive = 0), key: "portal:nginx.keepalive", allowed: /integer from 1 to 4096/ },
    { name: "keep-alive pool that is not an integer", edit: (r) => (r.nginx.keepalive = "64; include /x"), key: "portal:nginx.keepalive", allowed: /integer from 1 to 4096/ },
    {
        name: "lua mode with a confDir too long for the control socket",
        edit: (r) => Object.assign(r.nginx, { mode: "lua", confDir: `/etc/${"n".repeat(100)}` }),
        key: "portal:nginx.confDir",
        allowed: /too long for lua mode's control socket .*router\.sock; allowed: a path of at most 95 characters/,
    },
    { name: "env value with a newline", edit: (r) => (r.app.env.X = "a\nb"), key: "portal:app.env.X", allowed: /without newline/ },
];

describe("config validation", () => {
    for (const c of CASES) {
        it(`refuses ${c.name}, naming ${c.key}`, () => {
            const error = refused(c.edit);
            const problem = error.problems.find((p) => p.key === c.key);
            assert.ok(problem, `no problem reported for ${c.key}; got:\n${error.message}`);
            assert.match(`${problem.key} ${problem.message}`, c.allowed);
            assert.match(error.message, new RegExp(c.key.replace(/[[\].]/g, "\\$&")));
        });
    }

    it("reports every bad key at once", () => {
        const error = refused((r) => {
            r.release.live = "purple";
            r.ssh.port = 0;
        });
        assert.deepEqual(error.problems.map((p) => p.key).sort(), ["portal:release.live", "portal:ssh.port"]);
    });

    it("accepts the repository's stacks and fills the defaults", () => {
        const config = validateConfig(production());
        assert.equal(config.target, "ssh");
        assert.equal(config.app.upstreamHost, "127.0.0.1");
        assert.deepEqual(config.release, { tags: { blue: "2020.08.06-1", green: "2020.08.07-1" }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal" }, env: PINNED_ENV, live: "blue", passive: "green", canary: 0 });
        assert.deepEqual(config.nginx.canary, { mode: "sticky", cookie: "portal_client" });
        assert.equal(config.nginx.mode, "state");
        assert.equal(config.nginx.keepalive, 64);
        for (const stack of ["staging", "local"]) {
            const raw: RawConfig = {};
            for (const [key, value] of Object.entries(loadStack(stack))) raw[key.replace(/^portal:/, "")] = value;
            assert.doesNotThrow(() => validateConfig(raw), stack);
        }
    });

    it("accepts lua mode and a keep-alive pool", () => {
        const raw = production();
        Object.assign(raw.nginx as object, { mode: "lua", keepalive: "128" });
        const config = validateConfig(raw);
        assert.equal(config.nginx.mode, "lua");
        assert.equal(config.nginx.keepalive, 128);
    });

    it("accepts a canary with two decimals and numeric strings from `pulumi config set --path`", () => {
        const raw = production();
        (raw.release as any).canary = "0.01";
        (raw.app as any).port = "8000";
        const config = validateConfig(raw);
        assert.equal(config.release.canary, 0.01);
        assert.equal(config.app.port, 8000);
    });
});
