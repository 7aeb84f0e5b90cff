// Secrets as Pulumi stores them: `secure:` values at the top level and nested by
// `pulumi config set --secret --path`, and plain values of secret keys refused with the
// key and the command that stores it encrypted.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runPlan } from "../../bin/plan";
import { runRelease } from "../../bin/release";
import { evaluate } from "../../offline/evaluate";
import { readStackFile } from "../../offline/plan";
import { REPO, loadStack } from "../support/stacks";

const PRODUCTION = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8");

/** A directory holding Pulumi.production.yaml = the committed file plus `extra` lines under config:. */
function stackDir(extra: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-secrets-"));
    fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), PRODUCTION + extra);
    return dir;
}

async function refusal(extra: string): Promise<string[]> {
    const dir = stackDir(extra);
    try {
        const r = await runPlan(["--stack", "production", "--json"], dir);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.equal(r.stdout, "");
        return r.stderr.trimEnd().split("\n");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const WEBHOOK = "  portal:slackWebhook:\n    secure: AAABAWebhookCipher\n";
const NESTED = "  portal:appSecrets:\n    DATABASE_PASSWORD:\n      secure: AAABADbCipher\n    API_TOKEN:\n      secure: AAABATokenCipher\n";
/** The same secrets as the release helper's prepare copies them for each pinned color. */
const COPIED = "  portal:colorSecrets:\n    blue: { DATABASE_PASSWORD: { secure: AAABADbCipher }, API_TOKEN: { secure: AAABATokenCipher } }\n    green: { DATABASE_PASSWORD: { secure: AAABADbCipher }, API_TOKEN: { secure: AAABATokenCipher } }\n";

describe("secrets as Pulumi stores them", function () {
    this.timeout(60000);

    it("a top-level secure value counts as set: notifications on, no ciphertext printed", async () => {
        const dir = stackDir(WEBHOOK);
        const r = await runPlan(["--stack", "production"], dir);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^ {2}notifications: slack$/m);
        assert.ok(!r.stdout.includes("AAABA"));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("--path nested secure values are secret leaves of a map: the env has each key, secret, never [object Object]", async () => {
        const dir = stackDir(NESTED + COPIED);
        const stack = readStackFile(path.join(dir, "Pulumi.production.yaml"));
        assert.deepEqual(stack.storage.encrypted, [
            "appSecrets.DATABASE_PASSWORD",
            "appSecrets.API_TOKEN",
            ...["blue", "green"].flatMap((c) => [`colorSecrets.${c}.DATABASE_PASSWORD`, `colorSecrets.${c}.API_TOKEN`]),
        ]);
        assert.deepEqual(Object.keys(stack.secrets), ["portal:appSecrets", "portal:colorSecrets"]);
        const e = await evaluate(stack.config, stack.secrets);
        const container = [...e.resources.values()].find((r) => r.name === "web2-green-container")!;
        const envs = container.inputs.envs as { "4dabf18193072939515e22adb298388d": string; value: string[] };
        assert.equal(envs["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
        // Each encrypted leaf stands for itself offline: a digest of its own ciphertext.
        const [plainLine, db, token] = envs.value;
        assert.equal(plainLine, "DJANGO_SETTINGS_MODULE=portal.settings.production");
        assert.match(db, /^DATABASE_PASSWORD=\(secret [0-9a-f]{12}: not decrypted offline\)$/);
        assert.match(token, /^API_TOKEN=\(secret [0-9a-f]{12}: not decrypted offline\)$/);
        assert.notEqual(db.split("=")[1], token.split("=")[1]);
        assert.equal(envs.value.length, 3);
        const r = await runPlan(["--stack", "production"], dir);
        assert.equal(r.code, 0, r.stderr);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("refuses a plain webhook with the key and the command (not 'notifications: off')", async () => {
        assert.deepEqual(await refusal("  portal:slackWebhook: https://hooks.slack.com/services/T0/B0/plain\n"), [
            "invalid portal config:",
            "portal:slackWebhook is in plain text in the stack file; allowed: a secret, stored with: pulumi config set --secret portal:slackWebhook https://hooks.slack.com/services/… -s production",
        ]);
    });

    it("refuses a color's secret copied in plain text, naming the key and never the value", async () => {
        const lines = await refusal("  portal:colorSecrets:\n    blue:\n      DATABASE_PASSWORD: plain-pw-s3cret\n");
        assert.deepEqual(lines, [
            "invalid portal config:",
            "portal:colorSecrets.blue.DATABASE_PASSWORD is in plain text in the stack file; allowed: a secret, stored with: pulumi config set --secret --path 'portal:colorSecrets.blue.DATABASE_PASSWORD' -s production",
        ]);
    });

    it("refuses a plain ssh key without printing it", async () => {
        const lines = await refusal("  portal:sshPrivateKey: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    s3cret\n");
        assert.deepEqual(lines, [
            "invalid portal config:",
            "portal:sshPrivateKey is in plain text in the stack file; allowed: a secret, stored with: pulumi config set --secret portal:sshPrivateKey -s production < ~/.ssh/portal_deploy",
        ]);
    });

    it("refuses each plain app secret by name, and only those (mixed with --path secure ones)", async () => {
        const lines = await refusal("  portal:appSecrets:\n    DATABASE_PASSWORD:\n      secure: AAABADbCipher\n    API_TOKEN: plain-token\n    OTHER: plain\n");
        assert.deepEqual(lines, [
            "invalid portal config:",
            "portal:appSecrets.API_TOKEN is in plain text in the stack file; allowed: a secret, stored with: pulumi config set --secret --path 'portal:appSecrets.API_TOKEN' -s production",
            "portal:appSecrets.OTHER is in plain text in the stack file; allowed: a secret, stored with: pulumi config set --secret --path 'portal:appSecrets.OTHER' -s production",
        ]);
    });

    it("refuses app secrets that are not a map, once, without follow-on lines", async () => {
        assert.deepEqual(await refusal("  portal:appSecrets: [a, b]\n"), [
            "invalid portal config:",
            "portal:appSecrets is a list; allowed: a map of NAME: secret value, one per pulumi config set --secret --path 'portal:appSecrets.NAME' -s production",
        ]);
    });

    it("refuses a secret stored under a plain key (the program would put it in plain state)", async () => {
        const text = PRODUCTION.replace("    env:\n      DJANGO_SETTINGS_MODULE: portal.settings.production\n", "    env:\n      DJANGO_SETTINGS_MODULE: portal.settings.production\n      TOKEN:\n        secure: AAABAToken\n");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-secrets-"));
        fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), text);
        const r = await runPlan(["--stack", "production"], dir);
        assert.equal(r.code, 1);
        assert.deepEqual(r.stderr.trimEnd().split("\n"), [
            "invalid portal config:",
            "portal:app.env.TOKEN is stored as a secret, but portal:app.env is plain environment; allowed: a plain value, secrets only in portal:sshPrivateKey, portal:slackWebhook, portal:appSecrets, portal:colorSecrets, portal:registryPassword (a secret env value: pulumi config set --secret --path 'portal:appSecrets.NAME' -s production)",
        ]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the program itself refuses a secret key the engine does not mark secret", async () => {
        const config = { ...loadStack("production"), "portal:slackWebhook": "https://hooks.slack.com/services/T0/B0/plain" };
        await assert.rejects(evaluate(config), (e: Error) => {
            assert.equal(
                e.message,
                "invalid portal config:\nportal:slackWebhook is in plain text in the stack file; allowed: a secret, stored with: pulumi config set --secret portal:slackWebhook https://hooks.slack.com/services/… -s test",
            );
            return true;
        });
        await evaluate(loadStack("production"), { "portal:slackWebhook": "https://hooks.slack.com/services/T0/B0/secret" });
    });

    it("the release helper refuses to edit a stack with a plain secret", () => {
        const dir = stackDir("  portal:slackWebhook: https://hooks.slack.com/services/T0/B0/plain\n");
        const r = runRelease(["status", "--stack", "production"], dir);
        assert.equal(r.code, 1);
        assert.deepEqual(r.stderr.trimEnd().split("\n"), [
            "Pulumi.production.yaml is not a valid portal config now; fix it first:",
            "portal:slackWebhook is in plain text in the stack file; allowed: a secret, stored with: pulumi config set --secret portal:slackWebhook https://hooks.slack.com/services/… -s production",
        ]);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
