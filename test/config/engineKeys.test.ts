// The keys added so the real providers keep the rollout's promises: grace periods, pinned
// ssh host keys, registry login, an image repository per color. Each is validated and reaches
// its resource input (the program side is in test/program/*.test.ts).

import assert from "node:assert/strict";
import { ConfigError, validateConfig, type RawConfig } from "../../lib/config/config";
import { loadStack } from "../support/stacks";

function production(): RawConfig {
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(loadStack("production"))) raw[key.replace(/^portal:/, "")] = structuredClone(value);
    return raw;
}

function problems(edit: (raw: any) => void): string {
    const raw = production();
    edit(raw);
    try {
        validateConfig(raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
    }
    assert.fail("accepted");
}

const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

describe("config keys for the real providers", () => {
    it("stopGraceSeconds: 30 by default for colors and workers; a worker may override it", () => {
        const c = validateConfig(production());
        assert.equal(c.app.stopGraceSeconds, 30);
        assert.equal(c.workers.djobs.stopGraceSeconds, 30);
        const raw = production() as any;
        raw.app.stopGraceSeconds = 60;
        raw.workers.djobs.stopGraceSeconds = 600;
        const d = validateConfig(raw);
        assert.equal(d.app.stopGraceSeconds, 60);
        assert.equal(d.workers.djobs.stopGraceSeconds, 600);
        assert.equal(d.workers.cron.stopGraceSeconds, 60);
    });

    it("stopGraceSeconds out of range is refused", () => {
        assert.match(problems((r) => (r.app.stopGraceSeconds = 7200)), /portal:app\.stopGraceSeconds is 7200; allowed: an integer from 0 to 3600/);
        assert.match(problems((r) => (r.workers.cron.stopGraceSeconds = "soon")), /portal:workers\.cron\.stopGraceSeconds is "soon"/);
    });

    it("hostKey: an OpenSSH public key per server (and edge host); anything else is refused", () => {
        const raw = production() as any;
        raw.servers[0].hostKey = `ssh-ed25519 ${KEY}`;
        assert.equal(validateConfig(raw).servers[0].hostKey, `ssh-ed25519 ${KEY}`);
        assert.equal(validateConfig(production()).servers[0].hostKey, undefined);
        assert.match(problems((r) => (r.servers[1].hostKey = `10.0.0.12 ssh-ed25519 ${KEY}`)), /portal:servers\[1\]\.hostKey is .*allowed: an OpenSSH public key/);
        assert.match(problems((r) => (r.servers[1].hostKey = "ssh-dss AAAAB3NzaC1kc3MAAACBAP")), /portal:servers\[1\]\.hostKey/);
    });

    it("registry: server and username; the password is the secret portal:registryPassword", () => {
        const raw = production() as any;
        raw.registry = { server: "registry.gitlab.com", username: "deploy-token-1" };
        assert.deepEqual(validateConfig(raw).registry, { server: "registry.gitlab.com", username: "deploy-token-1" });
        assert.match(problems((r) => (r.registry = { server: "https://registry.gitlab.com/", username: "u" })), /portal:registry\.server is .*registry host\[:port\]/);
        assert.match(problems((r) => (r.registry = { server: "registry.gitlab.com", username: "u", password: "x" })), /portal:registry\.password is not a known key/);
    });

    it("release.images: a repository per color, absent by default (the color runs portal:image)", () => {
        const raw = production() as any;
        delete raw.release.images;
        assert.equal(validateConfig(raw).release.images, undefined);
        raw.release.images = { green: "registry.example.com/portal-py3" };
        assert.deepEqual(validateConfig(raw).release.images, { green: "registry.example.com/portal-py3" });
        assert.match(problems((r) => (r.release.images = { green: "registry.example.com/portal:3" })), /portal:release\.images\.green .*without tag or digest/);
        assert.match(problems((r) => (r.release.images = { purple: "x" })), /portal:release\.images\.purple is not a known key/);
    });
});
