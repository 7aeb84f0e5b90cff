// The offline preview's engine model (offline/engine.ts) on the real program under mocks:
// per resource same/update/replace/create/delete from the providers' rules, ignoreChanges,
// unknown-at-preview values, the protect rules with the old state, duplicate URNs.

import assert from "node:assert/strict";
import { previewSteps, renderPreview, summaryLine, UNKNOWN, type EnginePreview, type Step } from "../../offline/engine";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { providerRules } from "../../offline/providerRules";
import { appSecrets, steadyBlue, withRelease, type ReleaseEdit } from "../support/stacks";

const SECRETS = { "portal:appSecrets": { DATABASE_PASSWORD: "(secret: not decrypted offline)" } };
/** The URN the engine's messages name (the whole parent type chain). */
const urnOf = (e: Evaluation, name: string) => [...e.resources.values()].find((r) => r.name === name)!.engineUrn;
/** op (and order) per resource that does something, in the engine's order. */
const ops = (p: EnginePreview) => p.steps.filter((s) => s.op !== "same").map((s) => `${s.op}${s.order ? `(${s.order})` : ""} ${s.name}: ${s.changes.map((c) => c.key + (c.replaces ? "!" : "")).join(",")}`);
const step = (p: EnginePreview, name: string): Step => p.steps.find((s) => s.name === name)!;

describe("offline engine model", function () {
    this.timeout(120000);
    let steady: Evaluation;
    before(async () => {
        steady = await evaluate(steadyBlue());
    });
    const from = async (edit: ReleaseEdit, secrets = {}) => previewSteps(steady, await evaluate(withRelease(steadyBlue(), edit), secrets));

    it("prepare: the passive color's pull, migration, container, health wait, route and compose; nothing live", async () => {
        const p = await from({ tags: { green: "2020.08.07-1" }, passive: "green" });
        assert.deepEqual(p.errors, []);
        assert.deepEqual(p.warnings, []);
        assert.deepEqual(ops(p), [
            "replace(create-first) web1-green-image: name!",
            "replace(create-first) web2-green-image: name!",
            "replace(create-first) web3-green-image: name!",
            "replace(create-first) portal-release-stamp: triggers!",
            // A sticky canary's cohort salt is drawn afresh for the release being prepared.
            "replace(create-first) portal-canary-salt: keepers!",
            // Steps are keyed on their command line and stdin (triggers): a new one runs them again.
            "replace(create-first) web1-green-migrate: create,triggers!",
            "replace(create-first) web1-compose: create,stdin,triggers!",
            "replace(delete-first) web1-green-container: image!,labels!",
            "replace(create-first) web1-green-healthy: triggers!",
            "replace(create-first) web1-route-passive: stdin,triggers!",
            "replace(create-first) web2-compose: create,stdin,triggers!",
            "replace(delete-first) web2-green-container: image!,labels!",
            "replace(create-first) web2-green-healthy: triggers!",
            "replace(create-first) web2-route-passive: stdin,triggers!",
            "replace(create-first) web3-compose: create,stdin,triggers!",
            "replace(delete-first) web3-green-container: image!,labels!",
            "replace(create-first) web3-green-healthy: triggers!",
            "replace(create-first) web3-route-passive: stdin,triggers!",
        ]);
        // Unknown at preview: the replaced image's id, the replaced container's id, the new stamp.
        assert.equal(step(p, "web2-green-container").changes.find((c) => c.key === "image")!.new, UNKNOWN);
        assert.deepEqual(step(p, "web2-green-healthy").changes[0].new, ["bash /srv/portal/scripts/wait-healthy.sh http://127.0.0.1:8002/health 180", UNKNOWN]);
        assert.equal(step(p, "web1-compose").changes.find((c) => c.key === "create")!.new, UNKNOWN);
        assert.equal(p.summary, "+- 18 to replace, 74 unchanged");
        assert.equal(summaryLine(p.counts), p.summary);
    });

    it("an env key edited by hand into the live color's own env: the engine's refusal, once per server; only blue's steps and the workers (on live's env) change", async () => {
        const config = steadyBlue() as any;
        config["portal:release"].env.blue.FEATURE_X = "on";
        const after = await evaluate(config);
        const p = previewSteps(steady, after);
        assert.deepEqual(p.errors, ["web1", "web2", "web3"].map((s) =>
            `unable to replace resource "${urnOf(after, `${s}-blue-container`)}"\nas it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``));
        assert.deepEqual(ops(p).filter((l) => l.startsWith("replace")).map((l) => l.split(":")[0]), [
            "replace(create-first) web1-blue-migrate",
            "replace(create-first) web1-blue-env",
            "replace(delete-first) web1-blue-container",
            "replace(create-first) web1-blue-healthy",
            "replace(delete-first) web1-djobs",
            "replace(delete-first) web1-cron",
            "replace(create-first) web2-blue-env",
            "replace(delete-first) web2-blue-container",
            "replace(create-first) web2-blue-healthy",
            "replace(create-first) web3-blue-env",
            "replace(delete-first) web3-blue-container",
            "replace(create-first) web3-blue-healthy",
            "replace(delete-first) web3-djobs",
        ]);
        const lines = renderPreview(p);
        assert.ok(lines.includes("      envs:  (forces replacement)"), lines.join("\n"));
        assert.ok(lines.includes('          + "FEATURE_X=on"'), lines.join("\n"));
    });

    it("secrets set as the README says change no container; prepared with reconfigure they reach green alone, values shown as [secret]", async () => {
        const set = previewSteps(steady, await evaluate(steadyBlue(), SECRETS));
        assert.deepEqual([set.errors, set.steps.filter((x) => x.op !== "same").map((x) => x.name)], [[], []]);
        // Both colors hold the old password; the rotated one is copied to green alone.
        const old = await evaluate(steadyBlue(), appSecrets({ DATABASE_PASSWORD: "old-s3cret" }));
        const reconfigured = withRelease(steadyBlue(), { tags: { green: "2020.08.06-1" }, passive: "green" });
        const p = previewSteps(old, await evaluate(reconfigured, appSecrets({ DATABASE_PASSWORD: "new-s3cret" }, { blue: { DATABASE_PASSWORD: "old-s3cret" } })));
        assert.deepEqual(p.errors, []);
        const changed = p.steps.filter((x) => x.op !== "same").map((x) => x.name);
        assert.ok(changed.every((n) => !n.includes("blue") && !/djobs|cron/.test(n)), changed.join(", "));
        const envs = step(p, "web1-green-container").changes.find((c) => c.key === "envs")!;
        assert.equal(envs.secret, true);
        assert.ok(renderPreview(p).includes("      envs: [secret] -> [secret]  (forces replacement)"));
        assert.ok(!/s3cret/.test(renderPreview(p).join("\n")));
        assert.deepEqual(p.env, [{ color: "green", changes: ["~ DATABASE_PASSWORD"], secret: true }]);
        assert.ok(renderPreview(p).includes("  green: ~ DATABASE_PASSWORD  (holds secrets: values masked)"), renderPreview(p).join("\n"));
    });

    it("canary: the canaried container's protect flips on (recorded, nothing runs); only the live route and nothing else changes", async () => {
        const prepared = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" }));
        const p = previewSteps(prepared, await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green", canary: 5 })));
        assert.deepEqual(ops(p), [
            "replace(create-first) web1-route-live: stdin,triggers!",
            "replace(create-first) web2-route-live: stdin,triggers!",
            "replace(create-first) web3-route-live: stdin,triggers!",
        ]);
        assert.deepEqual(step(p, "web1-green-container").protect, { old: false, new: true });
        assert.ok(renderPreview(p).includes("  = web1-green-container  (protect: false -> true; recorded in the state, nothing runs)"));
    });

    it("protect true -> false in the same update is allowed by the engine: the live container is deleted first, and the live guard's warning says so", async () => {
        const p = await from({ live: "green", passive: "green", tags: { blue: "2020.08.09-1", green: "2020.08.07-1" } });
        assert.deepEqual(p.errors, []);
        assert.equal(step(p, "web1-blue-container").op, "replace");
        assert.equal(step(p, "web1-blue-container").order, "delete-first");
        assert.deepEqual(p.warnings.slice(0, 1), [
            "web1-blue-container served live traffic in the last state (it was protected) and would be deleted before its replacement exists; the live guard refuses such a change",
        ]);
    });

    it("a protected resource that leaves the program: the engine's delete refusal", async () => {
        const config = steadyBlue() as any;
        config["portal:servers"].pop();
        const p = previewSteps(steady, await evaluate(config));
        const urn = urnOf(steady, "web3-blue-container");
        assert.deepEqual(p.errors, [
            `resource "${urn}" cannot be deleted\nbecause it is protected. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect '${urn}'\``,
        ]);
        const deleted = p.steps.filter((s) => s.op === "delete").map((s) => s.name);
        assert.ok(deleted.length > 20 && deleted.every((n) => n.startsWith("web3")), deleted.join(" "));
    });

    it("a duplicate URN is refused with the engine's message", () => {
        const dup = { ...steady, duplicateUrns: [urnOf(steady, "web1-djobs")] };
        assert.equal(urnOf(steady, "web1-djobs"), "urn:pulumi:test::portal::portal:index:Portal$portal:index:Server$portal:index:Workers$docker:index/container:Container::web1-djobs");
        assert.deepEqual(previewSteps(steady, dup).errors, [`Duplicate resource URN '${urnOf(steady, "web1-djobs")}'; try giving it a unique name`]);
    });

    /** A copy of `e` with one resource's inputs or options edited. */
    function edited(e: Evaluation, name: string, edit: (r: any) => void): Evaluation {
        const resources = new Map([...e.resources].map(([urn, r]) => [urn, structuredClone(r)]));
        edit([...resources.values()].find((r) => r.name === name));
        return { ...e, resources };
    }

    it("the rules come from the table: updatable container inputs update, options override, unknown inputs are not guessed", () => {
        const restart = previewSteps(steady, edited(steady, "web1-green-container", (r) => (r.inputs.restart = "always")));
        assert.deepEqual(ops(restart), ["update web1-green-container: restart"]);
        const grace = previewSteps(steady, edited(steady, "web1-green-container", (r) => (r.inputs.destroyGraceSeconds = 45)));
        assert.deepEqual(ops(grace), ["update web1-green-container: destroyGraceSeconds"]);
        const createFirst = previewSteps(steady, edited(steady, "web1-green-container", (r) => ((r.inputs.labels = []), (r.deleteBeforeReplace = false))));
        assert.equal(ops(createFirst)[0], "replace(create-first) web1-green-container: labels!");
        const onChanges = previewSteps(steady, edited(steady, "web1-setup", (r) => ((r.inputs.create = "true"), (r.replaceOnChanges = ["create"]))));
        assert.equal(ops(onChanges)[0], "replace(create-first) web1-setup: create!");
        const unknownInput = previewSteps(steady, edited(steady, "web1-green-container", (r) => (r.inputs.fancyNewInput = 1)));
        assert.equal(unknownInput.steps.find((s) => s.name === "web1-green-container")!.changes[0].unmodelled, true);
        const unknownType = previewSteps(steady, edited(steady, "web1-green-container", (r) => ((r.type = "docker:index/network:Network"), (r.inputs.name = "x"))));
        assert.ok(unknownType.errors.some((e) => e.startsWith("the offline preview has no provider rules for docker:index/network:Network")));
    });

    it("the uploaded scripts: a new content hash is an update that copies again", () => {
        const p = previewSteps(steady, edited(steady, "web2-scripts", (r) => (r.inputs.source = { ...r.inputs.source, hash: "0".repeat(64) })));
        assert.deepEqual(ops(p), ["update web2-scripts: source"]);
        assert.equal(step(p, "web2-scripts").note, "copies again when the source's hash or remotePath changed");
        const none = previewSteps(steady, steady);
        assert.deepEqual(ops(none), []);
        assert.equal(none.summary, `${steady.resources.size + 1} unchanged`);
    });

    it("the table is the installed providers' (a version it has not read is refused)", () => {
        assert.deepEqual(providerRules().versions, { "@pulumi/docker": "5.0.0", "@pulumi/command": "1.2.1", "@pulumi/random": "4.21.2", "@pulumi/pulumi": "3.248.0" });
    });
});

describe("offline engine model: the committed stacks and --json", function () {
    this.timeout(120000);

    for (const name of ["production", "staging", "local"]) {
        it(`${name}: a second up of the same config plans nothing (every input stable, no replace on re-read)`, async () => {
            const { loadStack } = await import("../support/stacks");
            const p = previewSteps(await evaluate(loadStack(name), {}, { stack: name }), await evaluate(loadStack(name), {}, { stack: name }));
            assert.deepEqual([p.errors, p.steps.filter((s) => s.op !== "same").map((s) => s.name)], [[], []]);
        });
    }

    it("--json never carries a secret value or the internal unknown marker", async () => {
        const { previewForJson } = await import("../../offline/engine");
        const secret = { "portal:appSecrets": { DATABASE_PASSWORD: "db-pass-s3cret" }, "portal:sshPrivateKey": "key-s3cret" };
        const before = await evaluate(steadyBlue(), { ...secret, ...appSecrets({ DATABASE_PASSWORD: "db-pass-s3cret" }) });
        const after = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" }), { ...secret, ...appSecrets({ DATABASE_PASSWORD: "other-s3cret" }, { blue: { DATABASE_PASSWORD: "db-pass-s3cret" } }) });
        const text = JSON.stringify(previewForJson(previewSteps(before, after)));
        assert.ok(!/s3cret|\\u0000|⟨/.test(text), text.slice(0, 400));
        assert.ok(text.includes('"[unknown until up]"') && text.includes('"[secret]"'));
    });
});

describe("offline engine model: the Python 2 -> 3 walk-through (README)", function () {
    this.timeout(120000);

    it("step 1 adds only py3/red resources (and the edge); step 2 changes only the edge route; step 4's image change touches no live container", async () => {
        const { EDGE, PY3_TRACK, productionWithSite, withTracks } = await import("../support/stacks");
        const main = productionWithSite();
        const base = await evaluate(main);
        const added = await evaluate(withTracks(main, [PY3_TRACK], { ...EDGE, split: { track: "py3", percent: 0 } }));
        const step1 = previewSteps(base, added);
        assert.deepEqual(step1.errors, []);
        const changed = step1.steps.filter((s) => s.op !== "same");
        assert.ok(changed.every((s) => s.op === "create"), ops(step1).join("\n"));
        assert.ok(changed.every((s) => /py3|red|lb1|edge/.test(s.name) || s.type.startsWith("portal:index:")), changed.map((s) => s.name).join(" "));

        const split = await evaluate(withTracks(main, [PY3_TRACK], EDGE));
        assert.deepEqual(ops(previewSteps(added, split)), ["replace(create-first) lb1-edge-route: stdin,triggers!"]);

        // README step 4 sets portal:image to the py3 image: the colors' repositories are pinned
        // (release.images), so nothing running changes until `release prepare` moves the passive color;
        // prune only stores the new repository on its stdin (its no-op update runs nothing).
        const moved = structuredClone(withTracks(main, [PY3_TRACK], EDGE)) as any;
        moved["portal:image"] = "registry.example.com/portal-py3";
        const step4 = previewSteps(split, await evaluate(moved));
        assert.deepEqual([step4.errors, ops(step4)], [[], ["update web1-prune: stdin", "update web2-prune: stdin", "update web3-prune: stdin"]]);
        assert.ok(step4.steps.filter((s) => s.op === "update").every((s) => s.note === "runs its update command"));
    });
});

describe("offline engine model: the docker provider's config", function () {
    this.timeout(120000);

    it("a new ssh port updates the docker providers in place and replaces none of their containers", async () => {
        const before = await evaluate(steadyBlue());
        const config = steadyBlue() as any;
        config["portal:ssh"].port = 2222;
        const p = previewSteps(before, await evaluate(config));
        const docker = p.steps.filter((s) => s.type.startsWith("docker:") || s.type.startsWith("pulumi:providers:"));
        assert.deepEqual(docker.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name} ${s.note}`), [
            "update web1-docker provider configuration, updated in place: its resources are not replaced for it",
            "update web2-docker provider configuration, updated in place: its resources are not replaced for it",
            "update web3-docker provider configuration, updated in place: its resources are not replaced for it",
        ]);
        // The commands' connection changes: an update of every remote step, which runs its no-op update (nothing on the server).
        assert.ok(p.steps.filter((s) => s.type === "command:remote:Command").every((s) => s.op === "update" && s.note === "runs its update command" && s.changes.some((c) => c.key === "connection" && c.secret)));
    });
});
