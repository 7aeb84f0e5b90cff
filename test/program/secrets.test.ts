// Secrets stay secret end to end: every input that carries one is a secret Output, and no
// secret value appears in any plain input (command lines, file contents, provider host).

import assert from "node:assert/strict";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { appSecrets, steadyBlue, withRelease } from "../support/stacks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRETS = {
    "portal:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material-s3cret\n-----END OPENSSH PRIVATE KEY-----",
    "portal:slackWebhook": "https://hooks.slack.example/T000/B000/webhook-s3cret",
    ...appSecrets({ DATABASE_PASSWORD: "db-pass-s3cret" }),
};
const SECRET_VALUES = ["key-material-s3cret", "webhook-s3cret", "db-pass-s3cret"];

/** Replaces every secret envelope by a marker, leaving what a preview shows in plain text. */
function plainView(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plainView);
    if (value && typeof value === "object") {
        if (SECRET_SIG in value) return "[secret]";
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainView(v)]));
    }
    return value;
}

describe("secrets (mock runtime, production stack with every secret set)", function () {
    this.timeout(60000);
    let e: Evaluation;
    const find = (name: string) => [...e.resources.values()].find((r) => r.name === name)!;

    before(async () => {
        e = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" }), SECRETS);
    });

    it("no secret value appears outside a secret envelope in any resource's inputs", () => {
        assert.ok(e.resources.size > 50);
        for (const r of e.resources.values()) {
            const shown = JSON.stringify(plainView(r.inputs));
            for (const s of SECRET_VALUES) assert.ok(!shown.includes(s), `${r.name} shows a secret in plain text: ${shown}`);
        }
    });

    it("command lines never carry secrets: the key rides in the connection, env on stdin, the webhook in the environment", () => {
        for (const r of e.resources.values()) {
            if (typeof r.inputs.create === "string") {
                for (const s of SECRET_VALUES) assert.ok(!r.inputs.create.includes(s), `${r.name} command line has a secret`);
            }
        }
        assert.equal(plainView(find("web1-green-migrate").inputs.stdin), "[secret]");
        assert.equal(plainView(find("web1-green-migrate").inputs.connection), "[secret]");
        assert.deepEqual(plainView(find("portal-notify-prepared").inputs.environment), "[secret]");
        assert.deepEqual(plainView(find("portal-notify-live").inputs.environment), "[secret]");
        assert.equal(plainView(find("web2-green-container").inputs.envs), "[secret]");
        assert.equal(plainView(find("web3-djobs").inputs.envs), "[secret]");
    });

    it("the secrets do reach the resources that need them", () => {
        const stdin = find("web1-green-migrate").inputs.stdin as { value: string };
        assert.match(stdin.value, /^DATABASE_PASSWORD=db-pass-s3cret$/m);
        const connection = find("web2-route-live").inputs.connection as { value: { privateKey: string } };
        assert.equal(connection.value.privateKey, SECRETS["portal:sshPrivateKey"]);
        const env = find("portal-notify-live").inputs.environment as { value: Record<string, string> };
        assert.equal(env.value.SLACK_WEBHOOK_URL, SECRETS["portal:slackWebhook"]);
    });
});
