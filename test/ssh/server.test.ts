// The README's server set-up, proven over real ssh: a real OpenSSH server on 127.0.0.1, an
// unprivileged user made by scripts/bootstrap-server.sh (key login only, docker group,
// NOPASSWD sudo for the nginx test and reload commands only), a real nginx from a temp
// prefix (njs, state mode) and the real Docker engine reached over ssh. The program is
// evaluated with mocks for each stage; what it declares for the server is run over ssh
// (harness/declaredRun.ts) through fresh, prepare, deploy and rollback; the preflight
// is run on the server missing each prerequisite in turn.
//
// Needs root (useradd, sudoers, sshd) and Debian's openssh-server; skipped when not root.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluate, type Evaluation, type StackConfig } from "../../offline/evaluate";
import { docker, ensureTestImage, TEST_IMAGE } from "../../harness/docker";
import { freePort, httpGet } from "../../harness/http";
import { runNginx, type NginxProcess } from "../../harness/nginx";
import { makeTempDir, removeTempDir, run, SCRIPTS_DIR, type RunResult } from "../../harness/run";
import { plannedSteps, plain, runSteps, type StepRecord } from "../../harness/declaredRun";
import { planRollout } from "../../lib/plan/rollout";
import { modelOf } from "../support/stacks";
import { SSHD, startSshd, type SshServer } from "../../harness/sshd";

const PID = process.pid;
const USER = `deploy-t${PID}`;
const REPO = `portal-ssh${PID}`;
const SECRET = `s3cret-${PID}-value`;
const SUDOERS = `/etc/sudoers.d/portal-test-${PID}`;
const CONTAINERS = ["portal-blue", "portal-green", "portal-djobs", "portal-migrate-blue", "portal-migrate-green"];
const BOOTSTRAP = path.join(SCRIPTS_DIR, "bootstrap-server.sh");

/** An app image whose every path (and /health) answers its version: ENV + CMD on the busybox test image, no build. */
async function makeAppImage(tag: string): Promise<void> {
    const tmp = `portal-ssh-src-${PID}-${tag}`;
    await docker(["rm", "-f", tmp]);
    const created = await docker(["create", "--name", tmp, TEST_IMAGE]);
    assert.equal(created.code, 0, created.stderr);
    const cmd = 'mkdir -p /www && echo "$PORTAL_VERSION" > /www/index.html && cp /www/index.html /www/health && exec httpd -f -p 8000 -h /www';
    const r = await docker(["commit", "--change", `ENV PORTAL_VERSION=${tag}`, "--change", `CMD ["sh","-c",${JSON.stringify(cmd)}]`, tmp, `${REPO}:${tag}`]);
    await docker(["rm", "-f", tmp]);
    assert.equal(r.code, 0, r.stderr);
}

async function body(url: string): Promise<string> {
    const r = await httpGet(url, 3000);
    return `${r.status} ${r.body.trim()}`;
}

describe("a server over real ssh (sshd, bootstrap-server.sh, nginx, Docker)", function () {
    this.timeout(90_000);
    let sshd: SshServer | undefined;
    let nginx: NginxProcess | undefined;
    let prefix = "";
    let srv = "";
    let dir = "";
    let ports: Record<"probe" | "live" | "passive" | "blue" | "green", number>;
    const records: StepRecord[] = [];
    const timings: Record<string, number> = {};
    let suiteStart = 0;

    const bootstrap = () =>
        run(
            BOOTSTRAP,
            [
                "--user", USER,
                "--authorized-key", sshd!.clientPublicKey,
                "--dir", dir,
                "--conf-dir", `${prefix}/portal`,
                "--nginx-root", prefix,
                "--mode", "state",
                "--test", testCmd(),
                "--reload", reloadCmd(),
                "--sudoers", SUDOERS,
            ],
            { timeoutMs: 30_000 },
        );
    const nginxArgs = () => `nginx -p ${prefix}/ -c ${prefix}/nginx.conf -e ${prefix}/error.log`;
    const testCmd = () => `sudo ${nginxArgs()} -t`;
    const reloadCmd = () => `sudo ${nginxArgs()} -s reload`;

    function stack(release: Record<string, unknown>, extra: StackConfig = {}): StackConfig {
        return {
            "portal:image": REPO,
            "portal:release": release,
            "portal:servers": [{ name: "web1", host: "127.0.0.1", primary: true, workers: ["djobs"] }],
            "portal:ssh": { user: USER, port: sshd!.port },
            "portal:app": {
                port: 8000,
                healthPath: "/health",
                hostPorts: { blue: ports.blue, green: ports.green },
                env: { PORTAL_STAGE: "ssh-test" },
                migrate: ["sh", "-c", 'echo "migrated for $PORTAL_VERSION ($PORTAL_STAGE)"'],
                healthTimeoutSeconds: 20,
            },
            "portal:workers": { djobs: { command: ["sh", "-c", "exec sleep 600"] } },
            "portal:nginx": {
                mode: "state",
                confDir: `${prefix}/portal`,
                configRoot: prefix,
                test: testCmd(),
                reload: reloadCmd(),
                pidFile: `${prefix}/nginx.pid`,
                errorLog: `${prefix}/error.log`,
                site: { address: "127.0.0.1", live: ports.live, passive: ports.passive },
            },
            "portal:dir": dir,
            ...extra,
        };
    }
    const SECRETS = () => ({ "portal:appSecrets": { API_TOKEN: SECRET } });
    const FRESH = { tags: { blue: "r1" }, live: "blue", passive: "blue", canary: 0 };
    const PREPARED = { tags: { blue: "r1", green: "r2" }, live: "blue", passive: "green", canary: 0 };
    const DEPLOYED = { tags: { blue: "r1", green: "r2" }, live: "green", passive: "green", canary: 0 };
    const ROLLED_BACK = { tags: { blue: "r1", green: "r2" }, live: "blue", passive: "blue", canary: 0 };

    /** What runs is steps of the rollout plan (lib/plan/rollout.ts), each after the planned steps it waits for. */
    function assertInPlanOrder(config: StackConfig, secrets: StackConfig, names: string[]): void {
        const plan = planRollout(modelOf(config, secrets), { stack: "test", notices: false });
        const position = new Map(names.map((n, i) => [n, i]));
        for (const name of names) {
            const step = plan.steps.find((s) => s.id === name);
            assert.ok(step, `${name} is not a step of the plan`);
            for (const dep of step.waitsFor) if (position.has(dep)) assert.ok(position.get(dep)! < position.get(name)!, `${name} ran before ${dep}, which it waits for`);
        }
    }

    let previous: Evaluation | undefined;
    /** Evaluates the stack and runs what changed since the previous stage; returns the stage's records. */
    async function stage(label: string, release: Record<string, unknown>, secrets: StackConfig = SECRETS(), extra: StackConfig = {}): Promise<StepRecord[]> {
        const started = Date.now();
        // Guarded by the state the previous stage deployed, as `pulumi up` is.
        const evaluation = await evaluate(stack(release, extra), secrets, { lastDeployed: previous?.outputs.deployedState });
        const steps = plannedSteps(previous, evaluation);
        assertInPlanOrder(stack(release, extra), secrets, steps.map((r) => r.name));
        const log: StepRecord[] = [];
        const failed = await runSteps(sshd!, previous, evaluation, steps, log);
        records.push(...log);
        timings[label] = Date.now() - started;
        assert.equal(failed, undefined, failed && `${failed.name} failed: ${failed.what}\n${failed.stdout}${failed.stderr}`);
        previous = evaluation;
        return log;
    }

    const preflights = new Map<string, Evaluation>();
    async function preflightCommand(extra: StackConfig = {}): Promise<{ create: string; stdin: string }> {
        const key = JSON.stringify(extra);
        if (!preflights.has(key)) preflights.set(key, await evaluate(stack(FRESH, extra), SECRETS()));
        const e = preflights.get(key)!;
        const r = [...e.resources.values()].find((x) => x.name === "web1-preflight")!;
        const i = plain(r.inputs) as { create: string; stdin: string };
        return { create: i.create, stdin: i.stdin };
    }
    async function preflight(extra: StackConfig = {}): Promise<RunResult> {
        const { create, stdin } = await preflightCommand(extra);
        return sshd!.exec(create, stdin);
    }
    const problemLines = (r: RunResult) => r.stderr.split("\n").filter((l) => /^preflight: [a-z]+: /.test(l));

    before(async function () {
        this.timeout(120_000);
        if (process.getuid?.() !== 0) this.skip();
        assert.ok(fs.existsSync(SSHD), "openssh-server is not installed (apt-get install openssh-server)");
        suiteStart = Date.now();
        for (const c of CONTAINERS) {
            const r = await docker(["inspect", "--format", "{{.Name}}", c]);
            assert.notEqual(r.code, 0, `container ${c} exists: another ssh suite or a real stack uses this engine`);
        }
        await ensureTestImage();
        // r2 arrives with the prepare (as a pull would bring it): the fresh stack's prune must not see it.
        await makeAppImage("r1");
        ports = { probe: await freePort(), live: await freePort(), passive: await freePort(), blue: await freePort(), green: await freePort() };
        sshd = await startSshd(USER);
        prefix = makeTempDir("sshnginx");
        fs.chmodSync(prefix, 0o755);
        srv = makeTempDir("sshsrv");
        fs.chmodSync(srv, 0o755);
        dir = `${srv}/portal`;
        const p = (n: string) => `${prefix}/${n}`;
        // Like Debian's nginx.conf: modules-enabled/ at the top, conf.d/ inside http; no portal lines yet.
        fs.writeFileSync(
            p("nginx.conf"),
            [
                `include ${p("modules-enabled")}/*.conf;`,
                "daemon off;",
                "worker_processes 1;",
                `pid ${p("nginx.pid")};`,
                `error_log ${p("error.log")} notice;`,
                "events { worker_connections 64; }",
                "http {",
                "  access_log off;",
                ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${p(`${t}_temp`)};`),
                `  include ${p("conf.d")}/*.conf;`,
                `  server { listen 127.0.0.1:${ports.probe}; return 204; }`,
                "}",
                "",
            ].join("\n"),
        );
        const started = Date.now();
        const b = await bootstrap();
        timings.bootstrap = Date.now() - started;
        assert.equal(b.code, 0, `bootstrap-server.sh failed:\n${b.stdout}${b.stderr}`);
        nginx = await runNginx(prefix, p("nginx.conf"), p("error.log"), ports.probe);
    });

    after(async function () {
        this.timeout(60_000);
        if (process.getuid?.() !== 0) return;
        await docker(["rm", "-f", ...CONTAINERS]);
        await docker(["rmi", "-f", `${REPO}:r1`, `${REPO}:r2`]);
        await nginx?.stop();
        await sshd?.stop();
        await run("userdel", ["-r", USER]);
        fs.rmSync(SUDOERS, { force: true });
        removeTempDir(srv);
        if (!nginx) removeTempDir(prefix);
        timings.suite = Date.now() - suiteStart;
        if (records.length > 0) {
            const lines = records.map((r) => `  ${String(r.ms).padStart(5)} ms  ${r.name}: ${r.what.slice(0, 150)}`);
            console.log(`    ssh suite: ${records.length} declared steps run over ssh; timings (ms): ${JSON.stringify(timings)}\n${lines.join("\n")}`);
        }
    });

    it("bootstrap makes a key-only user in the docker group, with sudo for exactly the nginx test and reload", async () => {
        const id = await sshd!.exec("id -nG");
        assert.equal(id.code, 0, id.stderr);
        assert.ok(id.stdout.trim().split(" ").includes("docker"), id.stdout);
        const rule = fs.readFileSync(SUDOERS, "utf8");
        assert.match(rule, new RegExp(`^${USER} ALL=\\(root\\) NOPASSWD: /usr/sbin/nginx -p ${prefix}/ -c ${prefix}/nginx.conf -e ${prefix}/error.log -t, /usr/sbin/nginx .* -s reload$`, "m"));
        // Anything else with sudo is refused (no password can be typed: -n).
        const other = await sshd!.exec("sudo -n true");
        assert.notEqual(other.code, 0);
        // Password and keyboard-interactive logins are off.
        const pw = await run("ssh", ["-F", sshd!.clientConfig, "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive", "127.0.0.1", "true"], { timeoutMs: 10_000 });
        assert.notEqual(pw.code, 0);
        assert.match(pw.stderr, /Permission denied \(publickey\)/);
    });

    it("the preflight passes on the bootstrapped server and changes nothing", async () => {
        const before = await sshd!.exec(`find ${dir} ${prefix}/portal -printf '%p %m %u\\n' | sort`);
        const started = Date.now();
        const r = await preflight();
        timings.preflight = Date.now() - started;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^preflight: ok on .* for ${USER}\\n$`));
        const after = await sshd!.exec(`find ${dir} ${prefix}/portal -printf '%p %m %u\\n' | sort`);
        assert.equal(after.stdout, before.stdout);
    });

    // One line per missing thing; the sudo rule covers two commands, so it misses two.
    const BREAKS: { what: string; break: () => Promise<unknown>; line: RegExp; lines?: RegExp[]; extra?: () => StackConfig }[] = [
        { what: "docker group", break: () => run("gpasswd", ["-d", USER, "docker"]), line: /^preflight: docker: deploy-t\d+ cannot reach the Docker daemon .*usermod -aG docker/ },
        { what: "include line", break: async () => fs.rmSync(`${prefix}/conf.d/portal.conf`), line: /^preflight: nginx: no 'include .*\/portal\/\*\.conf;' in the http block/ },
        { what: "njs module", break: async () => fs.rmSync(`${prefix}/modules-enabled/50-portal-njs.conf`), line: /^preflight: njs: nginx does not load ngx_http_js_module/ },
        { what: "writable directory", break: () => run("chown", ["root:root", dir]), line: /^preflight: directory: .*\/portal is not writable by deploy-t\d+ \(owner root\)$/ },
        {
            what: "sudo rule",
            break: async () => fs.rmSync(SUDOERS),
            line: /^preflight: sudo: deploy-t\d+ may not run 'nginx .* -t' with sudo without a password \(portal:nginx\.test;/,
            lines: [/^preflight: sudo: deploy-t\d+ may not run 'nginx .* -s reload' with sudo without a password \(portal:nginx\.reload;/],
        },
        { what: "disk space", break: async () => undefined, line: /^preflight: disk: \d+ MiB free for images in \/var\/lib\/docker; a pull needs 999999999 MiB/, extra: () => ({ "portal:preflight": { minFreeMb: 999999999 } }) },
    ];

    it("the preflight names each missing prerequisite in one line, and bootstrap-server.sh repairs it", async () => {
        const started = Date.now();
        for (const b of BREAKS) {
            await b.break();
            const r = await preflight(b.extra?.());
            const lines = problemLines(r);
            assert.equal(r.code, 1, `${b.what}: ${r.stdout}${r.stderr}`);
            const expected = [b.line, ...(b.lines ?? [])];
            assert.equal(lines.length, expected.length, `${b.what}: expected ${expected.length} line(s):\n${r.stderr}`);
            expected.forEach((re, i) => assert.match(lines[i], re, b.what));
            assert.match(r.stderr, new RegExp(`preflight: ${expected.length} missing on .*; nothing was changed`));
            // Running it again repairs what is missing (the next case starts from a complete server).
            const repaired = await bootstrap();
            assert.equal(repaired.code, 0, `${b.what}: bootstrap did not repair:\n${repaired.stdout}${repaired.stderr}`);
        }
        const ok = await preflight();
        assert.equal(ok.code, 0, `after the repairs: ${ok.stderr}`);
        timings.preflightBreaks = Date.now() - started;
    });

    it("everything missing at once: one line each", async () => {
        for (const b of BREAKS) await b.break();
        const r = await preflight(BREAKS.at(-1)!.extra!());
        const lines = problemLines(r);
        assert.equal(r.code, 1);
        const expected = BREAKS.flatMap((b) => [b.line, ...(b.lines ?? [])]);
        assert.equal(lines.length, expected.length, r.stderr);
        // In the script's order: docker, disk, directory, nginx include, njs, sudo.
        for (const re of expected) assert.ok(lines.some((l) => re.test(l)), `no line matches ${re}:\n${r.stderr}`);
        const repaired = await bootstrap();
        assert.equal(repaired.code, 0, repaired.stderr);
    });

    it("a failing preflight stops the first rollout before the server is changed", async () => {
        await run("gpasswd", ["-d", USER, "docker"]);
        const evaluation = await evaluate(stack(FRESH), SECRETS());
        const steps = plannedSteps(undefined, evaluation);
        assert.equal(steps[0].name, "web1-preflight");
        const log: StepRecord[] = [];
        const failed = await runSteps(sshd!, undefined, evaluation, steps, log);
        assert.equal(failed?.name, "web1-preflight");
        assert.equal(log.length, 1, "nothing may run after the failed preflight");
        assert.deepEqual(fs.readdirSync(dir).sort(), ["releases"]);
        assert.deepEqual(fs.readdirSync(`${prefix}/portal`), []);
        assert.equal((await bootstrap()).code, 0);
    });

    it("fresh stack: every declared step runs over ssh in the program's order; live and passive serve r1", async () => {
        const log = await stage("fresh", FRESH);
        const names = log.map((r) => r.name);
        assert.equal(names[0], "web1-preflight");
        for (const [a, b] of [
            ["web1-preflight", "web1-setup"],
            ["web1-setup", "web1-scripts"],
            ["web1-blue-image", "web1-blue-migrate"],
            ["web1-blue-migrate", "web1-blue-container"],
            ["web1-blue-container", "web1-blue-healthy"],
            ["web1-router", "web1-route-passive"],
            ["web1-record-live", "web1-djobs"],
        ]) {
            assert.ok(names.indexOf(a) >= 0 && names.indexOf(a) < names.indexOf(b), `${a} must run before ${b}: ${names.join(", ")}`);
        }
        assert.match(log.find((r) => r.name === "web1-blue-migrate")!.stdout, /migrated for r1/);
        assert.equal(await body(`http://127.0.0.1:${ports.live}/`), "200 r1");
        assert.equal(await body(`http://127.0.0.1:${ports.passive}/`), "200 r1");
        assert.equal(nginx!.reconfigurations(), log.filter((r) => /switch-route\.sh/.test(r.what)).length, "each static file publish reloads once");
        const worker = await docker(["inspect", "--format", "{{.State.Running}} {{.Config.Image}}", "portal-djobs"]);
        assert.match(worker.stdout, /^true /);
    });

    it("prepare: only the passive color's steps run; live keeps serving r1; the secret stays out of files and command lines", async () => {
        await makeAppImage("r2");
        const log = await stage("prepare", PREPARED);
        assert.deepEqual(log.map((r) => r.name).sort(), [
            "web1-compose",
            "web1-green-container",
            "web1-green-env",
            "web1-green-healthy",
            "web1-green-image",
            "web1-green-migrate",
            "web1-route-passive",
        ]);
        assert.match(log.find((r) => r.name === "web1-green-migrate")!.stdout, /migrated for r2/);
        assert.equal(await body(`http://127.0.0.1:${ports.live}/`), "200 r1");
        assert.equal(await body(`http://127.0.0.1:${ports.passive}/`), "200 r2");
        for (const r of records.filter((x) => x.type.startsWith("command:"))) assert.ok(!r.what.includes(SECRET), `${r.name} has the secret on its command line`);
        // Only the colors' env files hold it (for docker-compose), readable by the ssh user alone.
        const files = await sshd!.exec(`grep -rl -- ${SECRET} ${dir} ${prefix}/portal | xargs -r stat -c '%n %a %U' | sort`);
        assert.equal(files.stdout, `${dir}/blue.env 600 ${USER}\n${dir}/green.env 600 ${USER}\n`);
    });

    it("deploy: live moves to r2; rollback: live back to r1 with no container started", async () => {
        const deploy = await stage("deploy", DEPLOYED);
        assert.deepEqual(deploy.map((r) => r.name), ["web1-live-healthy", "web1-compose-symlink", "web1-route-live", "web1-record-live", "web1-djobs", "web1-prune"]);
        assert.match(deploy.at(-1)!.stderr, /prune: kept 1 release files .* \(removed 0\), removed 0 images/);
        assert.equal(await body(`http://127.0.0.1:${ports.live}/`), "200 r2");
        assert.equal((await sshd!.exec(`cat ${dir}/live-color`)).stdout, "green\n");
        const rollback = await stage("rollback", ROLLED_BACK);
        assert.ok(!rollback.some((r) => r.type === "docker:index/container:Container" && r.name !== "web1-djobs"), rollback.map((r) => r.name).join(", "));
        assert.equal(await body(`http://127.0.0.1:${ports.live}/`), "200 r1");
        assert.equal(await body(`http://127.0.0.1:${ports.passive}/`), "200 r1");
        assert.equal((await sshd!.exec(`cat ${dir}/live-color`)).stdout, "blue\n");
    });

    it("env change and secret rotation, prepared on green (reconfigure), deployed and rolled back: blue never touched", async () => {
        const containerEnv = async (name: string) => (await docker(["inspect", "--format", "{{json .Config.Env}}", name])).stdout;
        const id = async (name: string) => (await docker(["inspect", "--format", "{{.Id}}", name])).stdout.trim();
        const blueId = await id("portal-blue");
        const blueEnv = await containerEnv("portal-blue");
        assert.match(blueEnv, new RegExp(`"PORTAL_STAGE=ssh-test","API_TOKEN=${SECRET}"`));
        // What the release helper's reconfigure writes: green gets the live tag r1, the new
        // app.env and its own copy of the rotated secret; blue is pinned to what it runs.
        const NEW_SECRET = `${SECRET}-rotated`;
        const rotated = { "portal:appSecrets": { API_TOKEN: NEW_SECRET }, "portal:colorSecrets": { blue: { API_TOKEN: SECRET }, green: { API_TOKEN: NEW_SECRET } } };
        const env = { blue: { PORTAL_STAGE: "ssh-test" }, green: { PORTAL_STAGE: "ssh-test-2" } };
        const newAppEnv = (st: StackConfig) => ({ "portal:app": { ...(st["portal:app"] as object), env: { PORTAL_STAGE: "ssh-test-2" } } });
        const RECONFIGURED = { tags: { blue: "r1", green: "r1" }, env, live: "blue", passive: "green", canary: 0 };
        const log = await stage("reconfigure", RECONFIGURED, rotated, newAppEnv(stack(FRESH)));
        assert.deepEqual(log.map((r) => r.name).filter((n) => n.includes("blue") || /djobs|route-live|record-live/.test(n)), []);
        assert.match(log.find((r) => r.name === "web1-green-migrate")!.stdout, /migrated for r1 \(ssh-test-2\)/);
        assert.equal(await id("portal-blue"), blueId, "blue's container was not replaced");
        assert.equal(await containerEnv("portal-blue"), blueEnv);
        assert.match(await containerEnv("portal-green"), new RegExp(`"PORTAL_STAGE=ssh-test-2","API_TOKEN=${NEW_SECRET}"`));
        assert.equal(await body(`http://127.0.0.1:${ports.live}/`), "200 r1");
        for (const r of log.filter((x) => x.type.startsWith("command:"))) assert.ok(!r.what.includes(NEW_SECRET), `${r.name} has the secret on its command line`);
        assert.equal((await sshd!.exec(`stat -c '%a %U' ${dir}/green.env && grep -c -- ${NEW_SECRET} ${dir}/green.env ${dir}/blue.env`)).stdout, `600 ${USER}\n${dir}/green.env:1\n${dir}/blue.env:0\n`);
        // Deploy: green live, the worker on green's env; rollback: blue live again with its old env.
        await stage("deploy-config", { ...RECONFIGURED, live: "green" }, rotated, newAppEnv(stack(FRESH)));
        assert.match(await containerEnv("portal-djobs"), /"PORTAL_STAGE=ssh-test-2"/);
        await stage("rollback-config", { ...RECONFIGURED, passive: "blue" }, rotated, newAppEnv(stack(FRESH)));
        assert.equal(await id("portal-blue"), blueId);
        assert.equal((await sshd!.exec(`cat ${dir}/live-color`)).stdout, "blue\n");
        assert.match(await containerEnv("portal-djobs"), new RegExp(`"PORTAL_STAGE=ssh-test","API_TOKEN=${SECRET}"`));
    });

    it("docker-compose 1.29.2 on the server reads the live compose file: config, ps and logs of the real containers", async () => {
        const compose = (args: string) => sshd!.exec(`cd ${dir} && docker-compose -f docker-compose.yml ${args}`);
        const config = await compose("config -q");
        assert.equal(config.code, 0, config.stderr);
        const ps = await compose("ps");
        assert.equal(ps.code, 0, ps.stderr);
        for (const name of ["portal-blue", "portal-green", "portal-djobs"]) assert.match(ps.stdout, new RegExp(`^${name} .* Up `, "m"), ps.stdout);
        assert.match(ps.stdout, new RegExp(`127\\.0\\.0\\.1:${ports.blue}->8000/tcp`));
        const logs = await compose("logs --no-color --tail=5 blue");
        assert.equal(logs.code, 0, logs.stderr);
        assert.match(logs.stdout, /portal-blue/);
        // The file behind docker-compose.yml is the deployed release's.
        assert.match((await sshd!.exec(`readlink ${dir}/docker-compose.yml`)).stdout, /^releases\/docker-compose\.[0-9-]+\.yml\n$/);
    });

    it("DOCKER_HOST=ssh://user@127.0.0.1:<port> works as the docker transport (docker system dial-stdio)", async () => {
        const env = sshd!.dockerEnv();
        const v = await run("docker", ["version", "--format", "{{.Server.Version}}"], { env, timeoutMs: 30_000 });
        assert.equal(v.code, 0, v.stderr);
        const ps = await run("docker", ["ps", "--filter", "label=com.docker.compose.project=portal", "--format", "{{.Names}}"], { env, timeoutMs: 30_000 });
        assert.deepEqual(ps.stdout.trim().split("\n").sort(), ["portal-blue", "portal-djobs", "portal-green"]);
        // The docker CLI reached the engine through ssh running `docker system dial-stdio` there.
        assert.match(sshd!.wrapperLog(), new RegExp(`^-o ConnectTimeout=\\d+ -T -l ${USER} -p ${sshd!.port} -- 127\\.0\\.0\\.1 docker system dial-stdio$`, "m"));
    });
});
