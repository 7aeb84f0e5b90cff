// Private registry login and pinned ssh host keys, as the program
// declares them to the docker provider and the command provider.

import assert from "node:assert/strict";
import { evaluate, type Evaluation, type StackConfig } from "../../offline/evaluate";
import { steadyBlue } from "../support/stacks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const find = (e: Evaluation, name: string) => [...e.resources.values()].find((r) => r.name === name)!;

function withRegistry(): StackConfig {
    return { ...steadyBlue(), "portal:registry": { server: "registry.example.com", username: "deploy-token" } };
}

describe("registry login and host keys (mock runtime, production stack)", function () {
    this.timeout(60000);

    it("portal:registry gives every server's docker provider a registryAuth entry with the secret password", async () => {
        const e = await evaluate(withRegistry(), { "portal:registryPassword": "glpat-s3cret" });
        for (const s of ["web1", "web2", "web3"]) {
            // Provider inputs travel JSON-encoded; one holding a secret is a secret as a whole.
            const auth = find(e, `${s}-docker`).inputs.registryAuth as Record<string, unknown>;
            assert.equal(auth[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
            assert.deepEqual(JSON.parse(auth.value as string), [{ address: "registry.example.com", username: "deploy-token", password: "glpat-s3cret" }]);
        }
        for (const r of e.resources.values()) {
            const plain = JSON.stringify(r.inputs, (_key, v) => (v && typeof v === "object" && SECRET_SIG in v ? "[secret]" : v));
            assert.ok(!plain.includes("glpat-s3cret"), r.name);
        }
    });

    it("without portal:registry the providers send no credentials of ours", async () => {
        const e = await evaluate(steadyBlue());
        assert.equal(find(e, "web1-docker").inputs.registryAuth, undefined);
    });

    it("portal:registry without the password is refused before any pull, naming the command to set it", async () => {
        await assert.rejects(evaluate(withRegistry()), /portal:registryPassword is not; set it with: pulumi config set --secret portal:registryPassword/);
    });

    it("a server's hostKey pins the command provider's connection and the docker provider's ssh; other servers keep known_hosts", async () => {
        const config = steadyBlue();
        (config["portal:servers"] as Record<string, unknown>[])[0].hostKey = KEY;
        const e = await evaluate(config);
        const connection = (name: string) => (find(e, name).inputs.connection as Record<string, unknown>).value as Record<string, unknown>;
        assert.equal(connection("web1-route-live").hostKey, KEY);
        assert.equal(connection("web1-blue-migrate").hostKey, KEY);
        assert.equal(connection("web2-route-live").hostKey, undefined);
        assert.deepEqual(JSON.parse(find(e, "web1-docker").inputs.sshOpts as string), [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", `KnownHostsCommand=/bin/echo %H ${KEY}`,
        ]);
        assert.deepEqual(JSON.parse(find(e, "web2-docker").inputs.sshOpts as string), ["-o", "BatchMode=yes"]);
    });
});
