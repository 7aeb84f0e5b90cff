// Tracks and the edge are validated for clashes before any resource is declared.

import assert from "node:assert/strict";
import { ConfigError, validateConfig, type RawConfig } from "../../lib/config/config";
import { EDGE, PY3_TRACK, productionWithSite, withTracks } from "../support/stacks";

function raw(edit: (r: any) => void = () => undefined): RawConfig {
    const r: RawConfig = {};
    for (const [key, value] of Object.entries(withTracks(productionWithSite()))) r[key.replace(/^portal:/, "")] = structuredClone(value);
    edit(r);
    return r;
}

function problems(edit: (r: any) => void): { key: string; message: string }[] {
    try {
        validateConfig(raw(edit));
    } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.problems;
    }
    assert.fail("accepted");
}

const CASES: { name: string; edit: (r: any) => void; key: string; message: RegExp }[] = [
    { name: "a track on the main track's host port", edit: (r) => (r.tracks[0].hostPorts.red = 8001), key: "portal:tracks[0].hostPorts.red", message: /uses port 8001, already used by the main track \(blue\)/ },
    { name: "a track listening on the main track's port", edit: (r) => (r.tracks[0].site.live = 8080), key: "portal:tracks[0].site.live", message: /uses port 8080, already used by the main track \(live listener\)/ },
    { name: "two tracks on one port", edit: (r) => r.tracks.push({ ...PY3_TRACK, name: "py4", colors: ["cyan", "pink"], hostPorts: { cyan: 8021, pink: 8022 }, site: { live: 8180, passive: 8281 }, release: { tags: { cyan: "1" }, live: "cyan" } }), key: "portal:tracks[1].site.live", message: /already used by track py3 \(live listener\)/ },
    { name: "one color in two tracks", edit: (r) => Object.assign(r.tracks[0], { colors: ["blue", "black"], hostPorts: { blue: 8011, black: 8012 }, release: { tags: { blue: "x" }, live: "blue" } }), key: "portal:tracks[0].colors", message: /uses color blue, already used by the main track/ },
    { name: "one directory twice", edit: (r) => (r.tracks[0].dir = "/srv/portal"), key: "portal:tracks[0].dir", message: /uses directory \/srv\/portal, already used by the main track/ },
    { name: "two tracks with one name", edit: (r) => r.tracks.push({ ...PY3_TRACK, colors: ["cyan", "pink"], hostPorts: { cyan: 8021, pink: 8022 }, site: { live: 8280, passive: 8281 }, release: { tags: { cyan: "1" }, live: "cyan" } }), key: "portal:tracks", message: /names py3 twice/ },
    { name: "a reserved track name", edit: (r) => (r.tracks[0].name = "main"), key: "portal:tracks[0].name", message: /not 'main' or 'edge'/ },
    { name: "a track with one color", edit: (r) => (r.tracks[0].colors = ["red", "red"]), key: "portal:tracks[0].colors", message: /two different color names/ },
    { name: "a track's live tag missing", edit: (r) => (r.tracks[0].release.tags = {}), key: "portal:tracks[0].release.tags.red", message: /live color red needs a tag/ },
    { name: "a track's canary out of range", edit: (r) => Object.assign(r.tracks[0].release, { tags: { red: "a", black: "b" }, passive: "black", canary: 100 }), key: "portal:tracks[0].release.canary", message: /100% is a deploy/ },
    { name: "an edge split to an unknown track", edit: (r) => (r.edge.split.track = "py9"), key: "portal:edge.split.track", message: /allowed: a track that is not retired: py3/ },
    { name: "an edge split to a retired track", edit: (r) => (r.tracks[0].retired = true), key: "portal:edge.split.track", message: /not retired/ },
    { name: "an edge without the main track's listener", edit: (r) => delete r.nginx.site, key: "portal:nginx.site", message: /the edge sends the main track's traffic/ },
    { name: "an edge test route for an unknown track", edit: (r) => (r.edge.trackPorts.py9 = 8099), key: "portal:edge.trackPorts.py9", message: /is not a track; allowed: main, py3/ },
    { name: "two edge listeners on one port", edit: (r) => (r.edge.trackPorts.py3 = 80), key: "portal:edge.trackPorts.py3", message: /uses port 80, already used by edge.listen.port/ },
    { name: "an edge split over 100", edit: (r) => (r.edge.split.percent = 101), key: "portal:edge.split.percent", message: /0 to 100 with at most two decimals/ },
    { name: "an edge on the local target", edit: (r) => Object.assign(r, { target: "local", nginx: { ...r.nginx, mode: "reload" } }), key: "portal:edge", message: /no edge on the local target/ },
];

describe("track and edge validation", () => {
    for (const c of CASES) {
        it(`refuses ${c.name}, naming ${c.key}`, () => {
            const found = problems(c.edit);
            const p = found.find((x) => x.key === c.key);
            assert.ok(p, `no problem for ${c.key}: ${JSON.stringify(found)}`);
            assert.match(p.message, c.message);
        });
    }

    it("accepts a second track and an edge, deriving the track's directory, and 100% at the edge", () => {
        const config = validateConfig(raw((r) => (r.edge.split.percent = 100)));
        assert.equal(config.tracks[0].dir, "/srv/portal-py3");
        assert.equal(config.tracks[0].image, "registry.example.com/portal-py3");
        assert.deepEqual(config.tracks[0].colors, ["red", "black"]);
        assert.equal(config.edge!.split!.percent, 100);
        assert.equal(config.edge!.dir, "/srv/portal-edge");
        assert.deepEqual(config.edge!.listen, { address: "0.0.0.0", port: 80 });
        assert.deepEqual(EDGE.trackPorts, config.edge!.trackPorts);
    });
});
