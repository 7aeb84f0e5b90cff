// Immutable releases: a tag may be pinned to a digest; a tag that names no version
// (latest, stable) is refused unless portal:mutableTags lists it. And the keys the
// release helper writes (release.previous, release.pulled) are validated like the rest.
// Each refusal is checked as the exact line the operator sees.

import assert from "node:assert/strict";
import { ConfigError, validateConfig, type RawConfig } from "../../lib/config/config";
import { isMutableTag } from "../../lib/config/configRules";
import { loadStack } from "../support/stacks";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

function production(edit: (raw: any) => void = () => undefined): RawConfig {
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(loadStack("production"))) raw[key.replace(/^portal:/, "")] = structuredClone(value);
    edit(raw);
    return raw;
}

function problems(edit: (raw: any) => void): string[] {
    try {
        validateConfig(production(edit));
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems.map((p) => `${p.key} ${p.message}`);
    }
    return assert.fail("the config was accepted");
}

const latestRefused = (key: string, tag: string) =>
    `${key} is "${tag}", a tag that names no version and can be re-pushed (a server that has it never pulls it again); allowed: a versioned tag, the tag pinned to a digest (${tag}@sha256:<64 hex>), or ${tag} listed in portal:mutableTags to pull it again on every prepare`;

describe("release tags: digests and mutable tags", () => {
    it("accepts a tag pinned to a digest, on any color and on a track", () => {
        const config = validateConfig(production((r) => (r.release.tags.green = `2020.08.07-1@${DIGEST}`)));
        assert.equal(config.release.tags.green, `2020.08.07-1@${DIGEST}`);
        assert.deepEqual(config.mutableTags, []);
        const pinnedLatest = validateConfig(production((r) => (r.release.tags.green = `latest@${DIGEST}`)));
        assert.equal(pinnedLatest.release.tags.green, `latest@${DIGEST}`);
    });

    it("refuses a malformed digest with the grammar in the message", () => {
        for (const tag of [`1.0@${DIGEST.slice(0, -1)}`, `1.0@${DIGEST.toUpperCase()}`, `1.0@sha512:${"0".repeat(64)}`, `1.0@${DIGEST}@${DIGEST}`, `@${DIGEST}`]) {
            assert.deepEqual(problems((r) => (r.release.tags.green = tag)), [
                `portal:release.tags.green is ${JSON.stringify(tag)}; allowed: a Docker tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, optionally pinned as <tag>@sha256:<64 lowercase hex>`,
            ]);
        }
    });

    it("refuses latest and other tags without a version, naming portal:mutableTags", () => {
        assert.deepEqual(problems((r) => (r.release.tags.green = "latest")), [latestRefused("portal:release.tags.green", "latest")]);
        assert.deepEqual(problems((r) => (r.release.tags.blue = "stable")), [latestRefused("portal:release.tags.blue", "stable")]);
        const track = { name: "py3", colors: ["red", "black"], release: { tags: { red: "main" }, live: "red" }, hostPorts: { red: 8011, black: 8012 }, site: { live: 8180, passive: 8181 } };
        assert.deepEqual(problems((r) => (r.tracks = [track])), [latestRefused("portal:tracks[0].release.tags.red", "main")]);
    });

    it("accepts a listed mutable tag, on the main track and on tracks", () => {
        const config = validateConfig(production((r) => Object.assign(r, { mutableTags: ["latest", "nightly2"] }, { release: { ...r.release, tags: { blue: "latest", green: "nightly2" } } })));
        assert.deepEqual(config.mutableTags, ["latest", "nightly2"]);
        assert.deepEqual(config.release.tags, { blue: "latest", green: "nightly2" });
        assert.equal(isMutableTag("nightly2", config.mutableTags), true, "a listed tag is mutable even with a digit");
        assert.equal(isMutableTag("latest", []), true);
        assert.equal(isMutableTag("2020.08.07-1", []), false);
        assert.equal(isMutableTag(`latest@${DIGEST}`, ["latest"]), false, "a digest pins it");
    });

    it("refuses a bad portal:mutableTags", () => {
        assert.deepEqual(problems((r) => (r.mutableTags = "latest")), ['portal:mutableTags is "latest"; allowed: a list of Docker tags that may be re-pushed, e.g. [latest]']);
        assert.deepEqual(problems((r) => (r.mutableTags = [`latest@${DIGEST}`])), [
            `portal:mutableTags[0] is "latest@${DIGEST}"; allowed: a Docker tag without digest: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`,
        ]);
    });
});

describe("release keys written by the helper", () => {
    it("accepts previous and pulled, and keeps them in the model", () => {
        const config = validateConfig(
            production((r) => Object.assign(r.release, { previous: { color: "green", tag: "2020.08.05-1", by: "deploy" }, pulled: { green: "20201201-143000" } })),
        );
        assert.deepEqual(config.release.previous, { color: "green", tag: "2020.08.05-1", by: "deploy" });
        assert.deepEqual(config.release.pulled, { green: "20201201-143000" });
        assert.ok(!("previous" in validateConfig(production()).release), "no key when the file has none");
    });

    it("refuses each bad field with its key", () => {
        assert.deepEqual(problems((r) => (r.release.previous = { color: "red", tag: "1 0", by: "hand" })), [
            "portal:release.previous.color is \"red\"; allowed: blue, green",
            "portal:release.previous.tag is \"1 0\"; allowed: a Docker tag, optionally <tag>@sha256:<64 hex>",
            "portal:release.previous.by is \"hand\"; allowed: deploy, rollback",
        ]);
        assert.deepEqual(problems((r) => (r.release.previous = { color: "blue", tag: "1.0", by: "deploy", when: "now" })), [
            "portal:release.previous.when is not a known key; allowed: color, tag, by",
        ]);
        assert.deepEqual(problems((r) => (r.release.pulled = { green: "yesterday", red: "20201201-143000" })), [
            "portal:release.pulled.red is not a known key; allowed: blue, green",
            'portal:release.pulled.green is "yesterday"; allowed: a UTC stamp YYYYMMDD-HHMMSS (written by the release helper\'s prepare)',
        ]);
    });
});
