// A real OpenSSH server on 127.0.0.1 for the ssh suite: Debian's sshd started from a temp
// directory (own host key, config, pid file), key authentication only, for one user that
// scripts/bootstrap-server.sh sets up. The client side is a private ssh config (the test's
// key and known_hosts), also wrapped as `ssh` on PATH for the docker CLI's ssh transport.

import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { freePort } from "./http";
import { makeTempDir, removeTempDir, run, sleep, type RunResult } from "./run";

export const SSHD = "/usr/sbin/sshd";

export interface SshServer {
    port: number;
    user: string;
    dir: string;
    /** The client's public key file, to authorize with bootstrap-server.sh. */
    clientPublicKey: string;
    /** ssh client config: Host 127.0.0.1 with the test key and known_hosts, BatchMode. */
    clientConfig: string;
    /** A directory with an `ssh` wrapper using clientConfig: put it first on PATH for `docker -H ssh://…`. */
    wrapperBin: string;
    /** What the docker CLI ran through the wrapper, one invocation per line. */
    wrapperLog(): string;
    /** Runs one command line on the server, as the provider does (the remote shell runs the text). */
    exec(command: string, stdin?: string, timeoutMs?: number): Promise<RunResult>;
    /** Copies a local directory to remotePath/<basename> with scp (sftp protocol), as CopyToRemote does. */
    copy(localDir: string, remotePath: string): Promise<RunResult>;
    /** Environment for `docker` over ssh: DOCKER_HOST=ssh://user@127.0.0.1:port and the wrapper on PATH. */
    dockerEnv(): NodeJS.ProcessEnv;
    stop(): Promise<void>;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
        const attempt = () => {
            const socket = net.connect(port, "127.0.0.1");
            socket.once("connect", () => (socket.destroy(), resolve()));
            socket.once("error", () => {
                socket.destroy();
                if (Date.now() > until) reject(new Error(`sshd did not listen on ${port}`));
                else setTimeout(attempt, 50);
            });
        };
        attempt();
    });
}

export async function startSshd(user: string): Promise<SshServer> {
    const dir = makeTempDir("sshd");
    fs.chmodSync(dir, 0o755);
    const p = (name: string) => path.join(dir, name);
    for (const [file, type] of [["host_ed25519", "ed25519"], ["client_ed25519", "ed25519"]]) {
        const r = await run("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `portal-test-${process.pid}`, "-f", p(file)]);
        if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
    }
    const port = await freePort();
    fs.writeFileSync(
        p("sshd_config"),
        [
            `ListenAddress 127.0.0.1`,
            `HostKey ${p("host_ed25519")}`,
            `PidFile ${p("sshd.pid")}`,
            "AuthorizedKeysFile .ssh/authorized_keys",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "PermitRootLogin no",
            "StrictModes yes",
            `AllowUsers ${user}`,
            "Subsystem sftp internal-sftp",
            "LogLevel ERROR",
            "",
        ].join("\n"),
    );
    const hostPub = fs.readFileSync(p("host_ed25519.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    fs.writeFileSync(p("known_hosts"), `[127.0.0.1]:${port} ${hostPub}\n`);
    fs.writeFileSync(
        p("ssh_config"),
        [
            "Host 127.0.0.1",
            `  Port ${port}`,
            `  User ${user}`,
            `  IdentityFile ${p("client_ed25519")}`,
            "  IdentitiesOnly yes",
            `  UserKnownHostsFile ${p("known_hosts")}`,
            "  GlobalKnownHostsFile /dev/null",
            "  StrictHostKeyChecking yes",
            "  BatchMode yes",
            "  PasswordAuthentication no",
            "  LogLevel ERROR",
            "",
        ].join("\n"),
    );
    const bin = p("bin");
    fs.mkdirSync(bin);
    // Logs each invocation's arguments (the docker CLI's remote command) to <dir>/ssh-wrapper.log.
    fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\necho "$*" >>${p("ssh-wrapper.log")}\nexec /usr/bin/ssh -F ${p("ssh_config")} "$@"\n`, { mode: 0o755 });

    // Privilege separation directory (normally made by the systemd unit).
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", p("sshd_config"), "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    let exited = false;
    const exit = new Promise<void>((resolve) => child.on("exit", () => ((exited = true), resolve())));
    try {
        await waitForPort(port, 10_000);
    } catch (e) {
        child.kill("SIGKILL");
        removeTempDir(dir);
        throw new Error(`${String(e)}: ${stderr}`);
    }

    const sshArgs = ["-F", p("ssh_config"), "127.0.0.1"];
    return {
        port,
        user,
        dir,
        clientPublicKey: p("client_ed25519.pub"),
        clientConfig: p("ssh_config"),
        wrapperBin: bin,
        exec: (command, stdin, timeoutMs = 60_000) => run("ssh", [...sshArgs, command], { input: stdin, timeoutMs }),
        copy: (localDir, remotePath) => run("scp", ["-F", p("ssh_config"), "-q", "-r", localDir, `127.0.0.1:${remotePath}/`], { timeoutMs: 30_000 }),
        wrapperLog: () => (fs.existsSync(p("ssh-wrapper.log")) ? fs.readFileSync(p("ssh-wrapper.log"), "utf8") : ""),
        dockerEnv: () => ({ ...process.env, PATH: `${bin}:${process.env.PATH}`, DOCKER_HOST: `ssh://${user}@127.0.0.1:${port}` }),
        stop: async () => {
            if (!exited) {
                child.kill("SIGTERM");
                await Promise.race([exit, sleep(3000)]);
                if (!exited) child.kill("SIGKILL");
            }
            removeTempDir(dir);
        },
    };
}
