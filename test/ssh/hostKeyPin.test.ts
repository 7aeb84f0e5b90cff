// The docker provider's ssh transport with a pinned host key (lib/server/sshOptions.ts), on a real
// OpenSSH server on 127.0.0.1: the options the program gives the provider accept the
// server's own key with no known_hosts entry, and refuse any other key. (The provider runs
// `ssh <sshOpts> -- <host> docker system dial-stdio`: kreuzwerker/terraform-provider-docker@v4.2.0
// internal/provider/config.go -> docker/cli connhelper.)

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { dockerSshOpts } from "../../lib/server/sshOptions";
import { freePort } from "../../harness/http";
import { makeTempDir, run } from "../../harness/run";

const SSHD = "/usr/sbin/sshd";

async function keygen(file: string): Promise<string> {
    const r = await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
    assert.equal(r.code, 0, r.stderr);
    // "ssh-ed25519 AAAA… comment" -> the config's form: type and key.
    return fs.readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
}

describe("pinned host key on the docker provider's ssh transport (real sshd on 127.0.0.1)", function () {
    this.timeout(60000);
    let dir: string;
    let port: number;
    let sshd: ChildProcess | undefined;
    let hostKey: string;
    let otherKey: string;
    let user: string;
    const client = () => path.join(dir, "client");

    before(async function () {
        if (!fs.existsSync(SSHD)) this.skip();
        dir = makeTempDir("portal-ssh");
        hostKey = await keygen(path.join(dir, "host"));
        otherKey = await keygen(path.join(dir, "other"));
        await keygen(client());
        fs.copyFileSync(`${client()}.pub`, path.join(dir, "authorized_keys"));
        port = await freePort();
        user = (await run("id", ["-un"])).stdout.trim();
        fs.writeFileSync(
            path.join(dir, "sshd_config"),
            [
                `ListenAddress 127.0.0.1:${port}`,
                `HostKey ${dir}/host`,
                `AuthorizedKeysFile ${dir}/authorized_keys`,
                `PidFile ${dir}/sshd.pid`,
                `AllowUsers ${user}`,
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                "",
            ].join("\n"),
        );
        fs.mkdirSync("/run/sshd", { recursive: true });
        sshd = spawn(SSHD, ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
        let log = "";
        sshd.stderr!.on("data", (d) => (log += d));
        for (let i = 0; i < 50 && !log.includes("Server listening"); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(log, /Server listening/, log);
    });

    after(() => {
        sshd?.kill("SIGTERM");
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const ssh = (opts: string[]) =>
        run("ssh", [...opts, "-o", "IdentitiesOnly=yes", "-i", client(), "-p", String(port), `${user}@127.0.0.1`, "echo", "dialed"], {
            timeoutMs: 20000,
            env: { ...process.env, HOME: dir },
        });

    it("the pinned key is accepted without any known_hosts entry", async () => {
        const r = await ssh(dockerSshOpts(hostKey));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), "dialed");
    });

    it("any other key is refused", async () => {
        const r = await ssh(dockerSshOpts(otherKey));
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Host key verification failed/);
    });

    it("without a pin, an unknown server is refused (BatchMode: no prompt): its key must be in known_hosts", async () => {
        const r = await ssh(dockerSshOpts());
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Host key verification failed/);
    });
});
