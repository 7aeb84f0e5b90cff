// Failures say which step failed where: the engine runs a resource's error hooks on every
// failed create, update or delete; the program's hook posts one line naming the step, the
// server and the reason (tested here against a real HTTP server standing in for Slack),
// and never asks for a retry. Under the mock runtime (no engine) no hook is declared.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { errorHooksAvailable, failureCallback, withErrorHook } from "../../components/notice";
import { failureNotice, SCRIPT_NAMES } from "../../lib/model/rollout";
import { evaluate } from "../../offline/evaluate";
import { startServer, type TestServer } from "../../harness/http";
import { envWithoutProxy, SCRIPTS_DIR } from "../../harness/run";
import { steadyBlue } from "../support/stacks";

const HOSTS = ["web1", "web2", "web3", "lb1"];
const HEALTH_ERROR =
    'Process exited with status 1: running "bash /srv/portal/scripts/wait-healthy.sh http://127.0.0.1:8002/health 180":\n' +
    "wait-healthy: http://127.0.0.1:8002/health did not answer 200 within 180 s (last: HTTP 502)\n";

describe("failure notices", function () {
    this.timeout(30_000);

    it("name the step, the server and the script's own reason (its last line in the error), never other output", () => {
        assert.equal(
            failureNotice("production", HOSTS, "web2-green-healthy", "create", HEALTH_ERROR),
            "production: step green-healthy failed on web2 (create): wait-healthy: http://127.0.0.1:8002/health did not answer 200 within 180 s (last: HTTP 502)",
        );
        assert.equal(failureNotice("production", HOSTS, "web1-py3-route-live", "update", "switch-state: cannot rename"), "production: step py3-route-live failed on web1 (update): switch-state: cannot rename");
        assert.equal(failureNotice("production", HOSTS, "lb1-edge-route", "create", "x"), "production: step edge-route failed on lb1 (create): see the pulumi output");
        assert.equal(failureNotice("production", HOSTS, "portal-release-stamp", "create", undefined), "production: step portal-release-stamp failed (create): see the pulumi output");
        // The app's own output (a migration printing its connection string) is never posted.
        const migration = 'Process exited with status 1: running "bash /srv/portal/scripts/run-migrations.sh ...":\nrun-migrations: starting portal-migrate-green\ndjango.db.utils.OperationalError: password=hunter2 rejected\n';
        assert.equal(failureNotice("production", HOSTS, "web1-green-migrate", "create", migration), "production: step green-migrate failed on web1 (create): run-migrations: starting portal-migrate-green");
        const long = failureNotice("production", HOSTS, "web3-blue-image", "create", `wait-healthy: ${"e".repeat(400)}`);
        assert.equal(long, `production: step blue-image failed on web3 (create): wait-healthy: ${"e".repeat(283)}...`);
        // A longer host name wins over its prefix (web1 vs web10).
        assert.equal(failureNotice("p", ["web1", "web10"], "web10-compose", "create", "write-compose: x"), "p: step compose failed on web10 (create): write-compose: x");
    });

    it("know every server script's name (the prefix of its own messages)", () => {
        const scripts = fs.readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".sh"));
        const names = scripts.map((f) => /^readonly PROG="([a-z-]+)"$/m.exec(fs.readFileSync(path.join(SCRIPTS_DIR, f), "utf8"))?.[1] ?? `${f} has no PROG`);
        assert.deepEqual([...names].sort(), [...SCRIPT_NAMES].sort());
    });

    describe("the hook's callback against a real webhook", () => {
        let slack: TestServer;
        before(async () => {
            slack = await startServer((_req, res) => {
                res.end("ok");
            });
        });
        after(async () => slack?.close());

        it("posts one line with the operator, and never retries", async () => {
            const url = `${slack.url}/services/T000/B000/s3cret`;
            const callback = failureCallback("production", HOSTS, () => url, envWithoutProxy({ PORTAL_OPERATOR: "alice" }));
            const retry = await callback({ urn: "urn:x", id: "", name: "web2-green-healthy", type: "command:remote:Command", failedOperation: "create", errors: [HEALTH_ERROR] });
            assert.equal(retry, false);
            assert.equal(slack.requests.length, 1);
            assert.equal(slack.requests[0].url, "/services/T000/B000/s3cret");
            assert.deepEqual(JSON.parse(slack.requests[0].body), {
                text: "production: step green-healthy failed on web2 (create): wait-healthy: http://127.0.0.1:8002/health did not answer 200 within 180 s (last: HTTP 502) (by alice)",
            });
            const none = failureCallback("production", HOSTS, () => undefined);
            assert.equal(await none({ urn: "urn:x", id: "", name: "web1-compose", type: "t", failedOperation: "create", errors: ["x"] }), false);
            assert.equal(slack.requests.length, 1, "no webhook value: nothing posted");
        });
    });

    it("the hook goes on every custom resource below the Portal, except the notices and components", () => {
        const hook = { name: "portal-failure-notice" } as unknown as pulumi.ErrorHook;
        const other = { name: "other" } as unknown as pulumi.ErrorHook;
        const transform = withErrorHook(hook);
        const custom = Object.create(pulumi.CustomResource.prototype) as pulumi.Resource;
        const component = Object.create(pulumi.ComponentResource.prototype) as pulumi.Resource;
        const args = (resource: pulumi.Resource, name: string, opts: pulumi.ResourceOptions = {}) => ({ resource, type: "t", name, props: { a: 1 }, opts });
        assert.deepEqual(transform(args(custom, "web2-green-healthy", { protect: true })), { props: { a: 1 }, opts: { protect: true, hooks: { onError: [hook] } } });
        assert.deepEqual(transform(args(custom, "web2-green-healthy", { hooks: { onError: [other] } })), { props: { a: 1 }, opts: { hooks: { onError: [other, hook] } } });
        assert.equal(transform(args(custom, "portal-notify-live")), undefined);
        assert.equal(transform(args(component, "web2-promotion")), undefined);
    });

    it("under the mock runtime the engine cannot run hooks, so none is declared and the program evaluates", async () => {
        const e = await evaluate(steadyBlue(), { "portal:slackWebhook": "https://hooks.slack.example/T000/B000/XXXX" });
        assert.equal(errorHooksAvailable(), false);
        assert.ok(e.resources.size > 50);
    });
});
