// Whole resource inputs for one server of the production stack in the prepared stage:
// what `pulumi preview --diff` would show for each step, compared in full.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { evaluate, mockRandomHex, type Evaluation } from "../../offline/evaluate";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO, steadyBlue, withRelease } from "../support/stacks";
import { step, SWITCH } from "../support/stepInputs";

const HEADER = "# Managed by Pulumi (project portal). Edits are overwritten by the next switch.\n";
const SWITCH_STATE = (file: string) => `bash /srv/portal/scripts/switch-state.sh /etc/nginx/portal/${file}`;
const composeLabels = (service: string) => [
    { label: "com.docker.compose.project", value: "portal" },
    { label: "com.docker.compose.service", value: service },
    { label: "com.docker.compose.oneoff", value: "False" },
    { label: "com.docker.compose.container-number", value: "1" },
];

const prepared = () => withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" });
/** The mock image id: per image resource, and new with every image name (offline/evaluate.ts). */
const imageId = (resource: string, name: string) => `sha256:${createHash("sha256").update(JSON.stringify([resource, name])).digest("hex")}`;
const UPSTREAMS =
    `${HEADER}upstream portal_blue {\n    server 127.0.0.1:8001 max_fails=0;\n    keepalive 64;\n}\n` +
    `upstream portal_green {\n    server 127.0.0.1:8002 max_fails=0;\n    keepalive 64;\n}\n`;

describe("resource inputs of web1, prepared stage, reload-free state mode (mock runtime)", function () {
    this.timeout(60000);
    let e: Evaluation;
    const inputs = (name: string) => [...e.resources.values()].find((r) => r.name === name)?.inputs;

    before(async () => {
        e = await evaluate(prepared());
    });

    it("the static files: upstreams, then the njs router, each tested and reloaded once", () => {
        assert.deepEqual(inputs("web1-upstreams"), step(SWITCH("upstreams.conf"), UPSTREAMS));
        assert.deepEqual(inputs("web1-router"), step(SWITCH("router.conf"), "# Managed by Pulumi (project portal): reload-free routing through the njs router.\n" +
                `# portal-router.js sha256 ${createHash("sha256").update(fs.readFileSync(path.join(REPO, "scripts", "portal-router.js"))).digest("hex")}\n` +
                "js_import portal_router from /srv/portal/scripts/portal-router.js;\n" +
                "js_var $portal_state_dir /etc/nginx/portal;\n" +
                "js_var $portal_track;\n" +
                "js_set $portal_live portal_router.live;\n" +
                "js_set $portal_passive portal_router.passive;\n"));
        assert.equal(inputs("web1-routes-init"), undefined);
    });

    it("the passive switch renames passive.state to green, the live one keeps blue", () => {
        assert.deepEqual(inputs("web1-route-passive"), step(SWITCH_STATE("passive.state"), '{"upstream":"portal_green"}\n'));
        assert.deepEqual(inputs("web1-route-live"), step(SWITCH_STATE("live.state"), '{"upstream":"portal_blue"}\n'));
    });

    it("a canary lands in the live state in basis points, sticky on the configured cookie, salted per release", async () => {
        e = await evaluate(withRelease(prepared(), { canary: 0.5 }));
        const salt = mockRandomHex({ color: "green", tag: "2020.08.07-1" }, 8);
        assert.equal(inputs("web2-route-live")!.stdin, `{"upstream":"portal_blue","canary":{"upstream":"portal_green","basisPoints":50,"sticky":true,"cookie":"portal_client","salt":"${salt}"}}\n`);
        e = await evaluate(prepared());
    });

    it("the green container runs the new tag on its loopback host port with compose labels", () => {
        assert.deepEqual(inputs("web1-green-container"), {
            name: "portal-green",
            image: imageId("web1-green-image", "registry.example.com/portal:2020.08.07-1"),
            restart: "unless-stopped",
            ports: [{ internal: 8000, external: 8002, ip: "127.0.0.1" }],
            envs: ["DJANGO_SETTINGS_MODULE=portal.settings.production"],
            labels: [...composeLabels("green"), { label: "portal.color", value: "green" }, { label: "portal.tag", value: "2020.08.07-1" }],
            mustRun: false,
            destroyGraceSeconds: 30,
            removeVolumes: false,
        });
    });

    it("the health wait polls the green host port and re-runs when the container is replaced", () => {
        const container = [...e.resources.values()].find((r) => r.name === "web1-green-container")!;
        assert.ok(container);
        const healthy = inputs("web1-green-healthy")!;
        assert.equal(healthy.create, "bash /srv/portal/scripts/wait-healthy.sh http://127.0.0.1:8002/health 180");
        assert.equal((healthy.triggers as string[]).length, 2);
        assert.equal((healthy.triggers as string[])[0], healthy.create);
        assert.match((healthy.triggers as string[])[1], /^web1-green-container-[0-9a-f]{12}$/);
    });

    it("the migration runs the new image with the configured command, env on stdin", () => {
        // Green's own env on stdin, and its hash a trigger (a new env of green runs it again); its output is not logged.
        const create = "bash /srv/portal/scripts/run-migrations.sh portal-migrate-green registry.example.com/portal:2020.08.07-1 python manage.py migrate --noinput";
        assert.deepEqual(inputs("web1-green-migrate"), { ...step(create, "DJANGO_SETTINGS_MODULE=portal.settings.production\n"), logging: "none" });
    });

    it("the live-color record and the workers stay on blue", () => {
        assert.deepEqual(inputs("web1-record-live"), step("bash /srv/portal/scripts/record-live.sh /srv/portal blue 2020.08.06-1"));
        assert.deepEqual(inputs("web1-djobs"), {
            name: "portal-djobs",
            image: imageId("web1-blue-image", "registry.example.com/portal:2020.08.06-1"),
            command: ["python", "manage.py", "run_djobs"],
            restart: "unless-stopped",
            envs: ["DJANGO_SETTINGS_MODULE=portal.settings.production"],
            labels: [...composeLabels("djobs"), { label: "portal.tag", value: "2020.08.06-1" }],
            mustRun: false,
            destroyGraceSeconds: 30,
            removeVolumes: false,
        });
    });

    it("the compose file is written under the release stamp", () => {
        const compose = inputs("web1-compose")!;
        assert.equal(compose.create, "bash /srv/portal/scripts/write-compose.sh /srv/portal 20200807-101500");
        assert.match(String(compose.stdin), /\n {2}green:\n {4}image: registry.example.com\/portal:2020.08.07-1\n {4}container_name: portal-green\n/);
        assert.deepEqual(inputs("portal-release-stamp"), { create: "date -u +%Y%m%d-%H%M%S", triggers: ["2020.08.06-1", "2020.08.07-1"] });
    });

    it("without a webhook no notification is declared", () => {
        assert.equal([...e.resources.values()].filter((r) => r.name.includes("notify")).length, 0);
    });
});

describe("resource inputs of web1, prepared stage, reload mode (mock runtime)", function () {
    this.timeout(60000);
    let e: Evaluation;
    const inputs = (name: string) => [...e.resources.values()].find((r) => r.name === name)?.inputs;

    before(async () => {
        const config = prepared();
        (config["portal:nginx"] as Record<string, unknown>).mode = "reload";
        e = await evaluate(config);
    });

    it("placeholders first, then the upstreams file, tested and reloaded; no router", () => {
        assert.deepEqual(inputs("web1-routes-init"), step("bash /srv/portal/scripts/init-routes.sh /etc/nginx/portal"));
        assert.deepEqual(inputs("web1-upstreams"), step(SWITCH("upstreams.conf"), UPSTREAMS));
        assert.equal(inputs("web1-router"), undefined);
    });

    it("the passive switch points passive.conf at green, the live one keeps live.conf on blue", () => {
        assert.deepEqual(inputs("web1-route-passive"), step(SWITCH("passive.conf"), `${HEADER}map $host $portal_passive {\n    default portal_green;\n}\n`));
        assert.deepEqual(inputs("web1-route-live"), step(SWITCH("live.conf"), `${HEADER}map $host $portal_live {\n    default portal_blue;\n}\n`));
    });
});
