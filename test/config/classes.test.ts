// The classes of validation gaps an independent set of bad configs found, each fixed as a
// class: every refusal here is the exact, whole list of lines, and one wrong value gives
// exactly one line (the sweep at the end tries every key with every wrong YAML type).

import assert from "node:assert/strict";
import { ConfigError, validateConfig, type RawConfig } from "../../lib/config/config";
import { EDGE, PY3_TRACK, loadStack, productionWithSite, withTracks } from "../support/stacks";

function rawOf(stack: Record<string, unknown>): RawConfig {
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(stack)) raw[key.replace(/^portal:/, "")] = structuredClone(value);
    return raw;
}

const production = () => rawOf(loadStack("production"));
const withEdge = () => rawOf(withTracks(productionWithSite(), [PY3_TRACK], EDGE));

/** The exact lines a config is refused with; [] when accepted. */
function lines(raw: RawConfig): string[] {
    try {
        validateConfig(raw);
        return [];
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.message.split("\n");
    }
}

function edited(base: () => RawConfig, edit: (r: any) => void): RawConfig {
    const raw = base();
    edit(raw);
    return raw;
}

describe("validation classes: names that must be unique", () => {
    it("a worker role listed twice on one server (two resources, one URN)", () => {
        assert.deepEqual(lines(edited(production, (r) => (r.servers[0].workers = ["djobs", "cron", "djobs"]))), [
            "portal:servers[0].workers[2] lists djobs again (also workers[0]); allowed: each role once per server",
        ]);
    });

    it("two edge hosts with one name", () => {
        assert.deepEqual(lines(edited(withEdge, (r) => r.edge.hosts.push({ name: "lb1", host: "10.0.1.6" }))), ["portal:edge.hosts names lb1 twice; allowed: unique names"]);
    });

    it("two edge entries on one host, compared case-insensitively", () => {
        const raw = edited(withEdge, (r) => (r.edge.hosts = [{ name: "lb1", host: "LB.example.com" }, { name: "lb2", host: "lb.example.COM" }]));
        assert.deepEqual(lines(raw), ["portal:edge.hosts lists host lb.example.com twice; allowed: one entry per host (host names compare case-insensitively)"]);
    });

    it("servers on one host, compared case-insensitively", () => {
        const raw = edited(production, (r) => ((r.servers[0].host = "Web.Example.com"), (r.servers[2].host = "web.example.com")));
        assert.deepEqual(lines(raw), ["portal:servers lists host web.example.com twice; allowed: unique hosts (host names compare case-insensitively)"]);
    });

    it("a server named <server>-<track> (its steps would have the track's URNs on that server)", () => {
        const raw = edited(withEdge, (r) => r.servers.push({ name: "web1-py3", host: "10.0.0.14" }));
        assert.deepEqual(lines(raw), ["portal:servers[3].name is web1-py3, the prefix of track py3's steps on server web1 (web1-py3-route-live, …); allowed: a name that is not <server>-<track>"]);
    });

    it("an edge host that is also a server (name or host)", () => {
        const raw = edited(withEdge, (r) => r.edge.hosts.push({ name: "web2", host: "10.0.1.7" }, { name: "lb3", host: "10.0.0.13" }));
        assert.deepEqual(lines(raw), [
            "portal:edge.hosts[1].name is web2, also a server's name; allowed: a name no server uses",
            "portal:edge.hosts[2].host is 10.0.0.13, also server web3's host; allowed: a host that runs no server (both would write router.conf in /etc/nginx/portal)",
        ]);
    });
});

describe("validation classes: IPv4-looking hosts", () => {
    const cases: [string, string][] = [
        ["10.0.0.256", 'portal:servers[1].host is "10.0.0.256", an IPv4 address with a number over 255 (256); allowed: four numbers 0-255 (a.b.c.d) or a hostname'],
        ["10.0.12", 'portal:servers[1].host is "10.0.12", an IPv4 address with 3 numbers; allowed: four numbers 0-255 (a.b.c.d) or a hostname'],
        ["10.0.0.1.5", 'portal:servers[1].host is "10.0.0.1.5", an IPv4 address with 5 numbers; allowed: four numbers 0-255 (a.b.c.d) or a hostname'],
        ["10..0.1", 'portal:servers[1].host is "10..0.1", an IPv4 address with an empty number; allowed: four numbers 0-255 (a.b.c.d) or a hostname'],
    ];
    for (const [host, line] of cases) {
        it(`refuses server host ${host}`, () => assert.deepEqual(lines(edited(production, (r) => (r.servers[1].host = host))), [line]));
    }

    it("the same rule for edge hosts and app.upstreamHost", () => {
        assert.deepEqual(lines(edited(withEdge, (r) => ((r.edge.hosts[0].host = "300.1.1.1"), (r.app.upstreamHost = "127.0.1")))), [
            'portal:app.upstreamHost is "127.0.1", an IPv4 address with 3 numbers; allowed: four numbers 0-255 (a.b.c.d) or a hostname',
            'portal:edge.hosts[0].host is "300.1.1.1", an IPv4 address with a number over 255 (300); allowed: four numbers 0-255 (a.b.c.d) or a hostname',
        ]);
    });

    it("accepts valid addresses and hostnames with digits", () => {
        for (const host of ["10.0.0.255", "0.0.0.0", "web1.example.com", "10-0-0-1.example.com", "db1"]) {
            assert.deepEqual(lines(edited(production, (r) => (r.servers[1].host = host))), [], host);
        }
    });
});

describe("validation classes: target local", () => {
    it("refuses several servers on the local target (one engine)", () => {
        const raw = rawOf(loadStack("local"));
        (raw.servers as unknown[]).push({ name: "local2", host: "127.0.0.2" });
        assert.deepEqual(lines(raw), ["portal:servers lists 2 servers with target local; allowed: one server (the local target is this machine's one Docker engine)"]);
    });
});

describe("validation classes: a value of the wrong YAML type gives one true line", () => {
    it("the issue's examples", () => {
        assert.deepEqual(lines(edited(production, (r) => (r.app.hostPorts = [8001, 8002]))), ['portal:app.hostPorts must be an object with keys: blue, green']);
        assert.deepEqual(lines(edited(production, (r) => (r.release.live = ["blue"]))), ['portal:release.live is ["blue"]; allowed: blue, green']);
        assert.deepEqual(lines(edited(withEdge, (r) => (r.tracks[0].colors = "red,black"))), ['portal:tracks[0].colors is "red,black"; allowed: two different color names, e.g. [red, black]']);
        assert.deepEqual(lines(edited(production, (r) => (r.workers = ["djobs", "cron"]))), ['portal:workers is ["djobs","cron"]; allowed: an object of role: { command: [...] }']);
        assert.deepEqual(lines(edited(production, (r) => (r.servers[0].primary = "yes"))), ['portal:servers[0].primary is "yes"; allowed: true, false']);
        assert.deepEqual(lines(edited(production, (r) => (r.release = "blue"))), ["portal:release must be an object with keys: tags, images, env, live, passive, canary, previous, pulled"]);
    });

    /** Every key path of a config value (maps and lists walked), with the value there. */
    function paths(value: unknown, path: string[] = []): { path: (string | number)[]; value: unknown }[] {
        const here = path.length ? [{ path, value }] : [];
        if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...path, i as never]))];
        if (value && typeof value === "object") return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...path, k]))];
        return here;
    }

    const keyOf = (path: (string | number)[]) => "portal:" + path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
    const WRONG: [string, unknown][] = [["a list", ["x", 1]], ["a map", { x: 1 }], ["a boolean", true], ["a number", 70000.5], ["a string", "wrong value"]];
    const kindOf = (v: unknown) => (Array.isArray(v) ? "a list" : v !== null && typeof v === "object" ? "a map" : `a ${typeof v}`);

    for (const [stack, base] of [["production", production], ["production with a track and an edge", withEdge]] as const) {
        it(`every key of ${stack}, replaced by every wrong type: exactly one line, naming that key or one below it`, () => {
            let refusals = 0;
            for (const { path, value } of paths(base())) {
                for (const [kind, wrong] of WRONG) {
                    if (kind === kindOf(value)) continue; // the right type: not this class
                    const raw = base() as any;
                    let at = raw;
                    for (const part of path.slice(0, -1)) at = at[part];
                    at[path[path.length - 1]] = structuredClone(wrong);
                    const got = lines(raw);
                    if (got.length === 0) continue; // e.g. a string where any string is allowed
                    refusals++;
                    const key = keyOf(path);
                    assert.equal(got.length, 1, `${key} set to ${kind}:\n${got.join("\n")}`);
                    assert.ok(got[0].startsWith(`${key} `) || got[0].startsWith(`${key}.`) || got[0].startsWith(`${key}[`), `${key} set to ${kind}:\n${got[0]}`);
                }
            }
            assert.ok(refusals > 100, `${refusals} refusals`);
        });
    }
});
