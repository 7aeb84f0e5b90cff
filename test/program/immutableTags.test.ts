// Immutable releases in the program (mock runtime): a tag pinned to a digest is pulled by
// `repo:tag@sha256:…` everywhere the image is named; a mutable tag (portal:mutableTags) is
// pulled again by a `docker pull` step whenever the helper's prepare stamps that color,
// and nothing of the live color changes.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { diff, perServer } from "../../offline/diff";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { steadyBlue, withRelease, type ReleaseEdit } from "../support/stacks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SERVERS = ["web1", "web2", "web3"];
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
const PINNED = `2020.08.07-1@${DIGEST}`;

const find = (e: Evaluation, name: string) => [...e.resources.values()].find((r) => r.name === name);
const urnOf = (e: Evaluation, name: string) => find(e, name)!.urn;
const plain = (value: unknown) => (value && typeof value === "object" && SECRET_SIG in value ? (value as unknown as { value: unknown }).value : value);

function withMutable(edit: ReleaseEdit & { pulled?: Record<string, string> }, tags = ["latest"]) {
    const { pulled, ...rest } = edit;
    const config = withRelease(steadyBlue(), rest);
    const release = config["portal:release"] as Record<string, unknown>;
    if (pulled) release.pulled = pulled;
    return { ...config, "portal:mutableTags": tags };
}

describe("digests and mutable tags (mock runtime, production stack)", function () {
    this.timeout(60000);

    it("a pinned tag is named repo:tag@sha256:… by the pull, the migration, the compose file and the container label", async () => {
        const e = await evaluate(withRelease(steadyBlue(), { tags: { green: PINNED }, passive: "green" }));
        const ref = `registry.example.com/portal:${PINNED}`;
        assert.deepEqual(find(e, "web1-green-image")!.inputs, { name: ref, keepLocally: true });
        // An immutable tag's pull waits only for every host's preflight.
        assert.deepEqual(find(e, "web1-green-image")!.dependsOn, ["web1", "web2", "web3"].map((s) => find(e, `${s}-preflight`)!.urn));
        assert.match(String(find(e, "web1-green-migrate")!.inputs.create), new RegExp(` ${ref.replace(/[.]/g, "\\.")} python manage.py migrate --noinput$`));
        assert.match(String(find(e, "web2-compose")!.inputs.stdin), new RegExp(`\\n {2}green:\\n {4}image: ${ref.replace(/[.]/g, "\\.")}\\n`));
        const labels = plain(find(e, "web3-green-container")!.inputs.labels) as { label: string; value: string }[];
        assert.deepEqual(labels.find((l) => l.label === "portal.tag"), { label: "portal.tag", value: PINNED });
        assert.equal(find(e, "web1-green-pull"), undefined, "an immutable tag has no pull step");
    });

    it("a mutable tag gets a docker pull step per server, keyed on its pull stamp; the image waits for it", async () => {
        const e = await evaluate(withMutable({ tags: { green: "latest" }, passive: "green", pulled: { green: "20201201-143000" } }));
        for (const s of SERVERS) {
            const pull = find(e, `${s}-green-pull`)!;
            assert.equal(pull.type, "command:remote:Command");
            assert.equal(pull.inputs.create, "docker pull registry.example.com/portal:latest");
            // A step's triggers: its command line, then its own (components/target.ts).
            assert.deepEqual(pull.inputs.triggers, ["docker pull registry.example.com/portal:latest", "20201201-143000"]);
            assert.equal(pull.parent, urnOf(e, s));
            assert.deepEqual(find(e, `${s}-green-image`)!.inputs, { name: "registry.example.com/portal:latest", keepLocally: true, pullTriggers: ["20201201-143000"] });
            assert.deepEqual(find(e, `${s}-green-image`)!.dependsOn, [pull.urn]);
            assert.equal(find(e, `${s}-blue-pull`), undefined, "blue's versioned tag is not pulled again");
        }
        const migrate = find(e, "web1-green-migrate")!.inputs;
        assert.deepEqual(migrate.triggers, [
            "bash /srv/portal/scripts/run-migrations.sh portal-migrate-green registry.example.com/portal:latest python manage.py migrate --noinput",
            `stdin sha256 ${createHash("sha256").update(String(migrate.stdin)).digest("hex")}`,
            "20201201-143000",
        ]);
        const blue = find(e, "web1-blue-migrate")!.inputs;
        assert.deepEqual(blue.triggers, [
            "bash /srv/portal/scripts/run-migrations.sh portal-migrate-blue registry.example.com/portal:2020.08.06-1 python manage.py migrate --noinput",
            `stdin sha256 ${createHash("sha256").update(String(blue.stdin)).digest("hex")}`,
        ], "blue's migration has no pull stamp");
    });

    it("preparing the same mutable tag again changes only that color's pulls, images and migration", async () => {
        // green already ran latest (an earlier prepare); a new prepare stamps it again.
        const before = await evaluate(withMutable({ tags: { green: "latest" }, passive: "blue", pulled: { green: "20201130-090000" } }));
        const after = await evaluate(withMutable({ tags: { green: "latest" }, passive: "green", pulled: { green: "20201201-143000" } }));
        const d = diff(before, after);
        assert.deepEqual(d.added, []);
        assert.deepEqual(d.removed, []);
        const changed = new Set(d.changed);
        for (const name of [...perServer(SERVERS, ["green-pull", "green-image", "route-passive"]), "web1-green-migrate"]) assert.ok(changed.has(name), `${name} changed`);
        for (const name of d.changed) assert.doesNotMatch(name, /blue|live|djobs|cron/, `${name} must not change`);
    });

    it("the live color on a mutable tag is not pulled again when the other color is prepared", async () => {
        const before = await evaluate(withMutable({ tags: { blue: "latest", green: "2020.08.05-2" }, pulled: { blue: "20201130-090000" } }));
        const after = await evaluate(withMutable({ tags: { blue: "latest", green: "2020.08.07-1" }, passive: "green", pulled: { blue: "20201130-090000" } }));
        for (const name of diff(before, after).changed) assert.doesNotMatch(name, /blue/, `${name} must not change`);
    });
});
