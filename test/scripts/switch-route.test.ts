// switch-route.sh against a real nginx: swaps live.conf / passive.conf, rolls back when
// `nginx -t` fails or the master rejects the reload (a listener on a taken port passes
// `nginx -t`), and reports only what took effect: exit 0 once nginx's new workers serve.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as net from "node:net";
import { freePort, httpGet, startTextServer, type TestServer } from "../../harness/http";
import { startNginx, type NginxInstance } from "../../harness/nginx";
import * as cmd from "../../lib/server/commands";
import { REPO_ROOT, describeResult, run, runScript, sleep } from "../../harness/run";

const liveMap = (upstream: string) => `map $host $portal_live { default ${upstream}; }\n`;
const passiveMap = (upstream: string) => `map $host $portal_passive { default ${upstream}; }\n`;

describe("scripts/switch-route.sh (real nginx)", function () {
  this.timeout(20_000);

  let blue: TestServer;
  let green: TestServer;
  let nginx: NginxInstance;
  let live: string;
  let passive: string;

  const portalEntries = () => fs.readdirSync(nginx.portalDir).sort();
  /** The argv switch-route.sh gets from the program (lib/server/commands.ts) for this nginx. */
  const argsFor = (target: string, over: { test?: string; reload?: string; timeout?: number } = {}) => [
    target,
    over.test ?? nginx.testCmd,
    over.reload ?? nginx.reloadCmd,
    nginx.control.pidFile,
    nginx.errorLog,
    String(over.timeout ?? 30),
  ];
  const switchRoute = (target: string, content: string, reloadCmd = nginx.reloadCmd) =>
    runScript("switch-route.sh", argsFor(target, { reload: reloadCmd }), { input: content, timeoutMs: 60_000 });
  /** The switch exactly as the program declares it (lib/server/commands.ts). */
  const switchAsProgram = (target: string, content: string) => {
    const { argv } = cmd.switchRoute(REPO_ROOT, target, nginx.control);
    return run(argv[0]!, argv.slice(1), { input: content, timeoutMs: 60_000 });
  };

  before(async function () {
    blue = await startTextServer("blue");
    green = await startTextServer("green");
  });

  after(async function () {
    await blue?.close();
    await green?.close();
  });

  beforeEach(async function () {
    nginx = await startNginx({
      portalFiles: {
        "upstreams.conf":
          `upstream portal_blue { server 127.0.0.1:${blue.port}; }\n` +
          `upstream portal_green { server 127.0.0.1:${green.port}; }\n`,
        "live.conf": liveMap("portal_blue"),
        "passive.conf": passiveMap("portal_blue"),
      },
      serverBody:
        "location / { proxy_pass http://$portal_live; } " +
        "location /passive/ { proxy_pass http://$portal_passive/; }",
    });
    live = path.join(nginx.portalDir, "live.conf");
    passive = path.join(nginx.portalDir, "passive.conf");
    assert.equal((await httpGet(nginx.baseUrl + "/")).body, "blue");
    assert.equal((await httpGet(nginx.baseUrl + "/passive/")).body, "blue");
  });

  afterEach(async function () {
    await nginx?.stop();
  });

  it("switches live traffic to green and leaves the passive route alone", async function () {
    const r = await switchRoute(live, liveMap("portal_green"));
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stderr, new RegExp(`switch-route: ${live} updated and nginx reloaded`));
    assert.equal(fs.readFileSync(live, "utf8"), liveMap("portal_green"));
    await nginx.waitForBody("/", "green");
    assert.equal((await httpGet(nginx.baseUrl + "/passive/")).body, "blue");
    assert.equal(fs.readFileSync(passive, "utf8"), passiveMap("portal_blue"));
    assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"]);

    // And the passive route can move independently of the live one.
    const p = await switchRoute(passive, passiveMap("portal_green"));
    assert.equal(p.code, 0, describeResult(p));
    await nginx.waitForBody("/passive/", "green");
    await nginx.waitForBody("/", "green");
    const back = await switchRoute(live, liveMap("portal_blue"));
    assert.equal(back.code, 0, describeResult(back));
    await nginx.waitForBody("/", "blue");
    assert.equal((await httpGet(nginx.baseUrl + "/passive/")).body, "green");
  });

  for (const [label, content, nginxMessage] of [
    ["a syntax error", "map $host $portal_live { default portal_green; \n", /unexpected end of file/],
    ["an unknown directive", liveMap("portal_green") + "bogus_directive on;\n", /unknown directive "bogus_directive"/],
  ] as const) {
    it(`rejects ${label}: restores live.conf, never reloads, keeps serving blue`, async function () {
      const before = fs.readFileSync(live);
      const reloadsBefore = nginx.reconfigurations();

      const r = await switchRoute(live, content);
      assert.equal(r.code, 1, describeResult(r));
      assert.match(r.stderr, nginxMessage, "nginx's own error output is passed through");
      assert.match(r.stderr, /test failed/);
      assert.deepEqual(fs.readFileSync(live), before, "live.conf is byte-identical to before");
      assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"], "no temp/backup files left");
      await sleep(300);
      assert.equal(nginx.reconfigurations(), reloadsBefore, "nginx was not reloaded");
      assert.equal((await httpGet(nginx.baseUrl + "/")).body, "blue");
    });
  }

  it("removes a brand-new TARGET whose content fails the test", async function () {
    const extra = path.join(nginx.portalDir, "extra.conf");
    const r = await switchRoute(extra, "this is not nginx config;\n");
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /unknown directive "this"/);
    assert.equal(fs.existsSync(extra), false);
    assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"]);
  });

  it("restores the old file when the reload command fails", async function () {
    const before = fs.readFileSync(live);
    const r = await switchRoute(live, liveMap("portal_green"), "false");
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /switch-route: reload failed \(false\); restored previous/);
    assert.deepEqual(fs.readFileSync(live), before);
    assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"]);
    assert.equal((await httpGet(nginx.baseUrl + "/")).body, "blue");

    // A real nginx reload failure (signal sent to a pid file that does not exist).
    fs.renameSync(path.join(nginx.prefix, "nginx.pid"), path.join(nginx.prefix, "moved.pid"));
    const r2 = await switchRoute(live, liveMap("portal_green"));
    assert.equal(r2.code, 1, describeResult(r2));
    assert.match(r2.stderr, /nginx\.pid/);
    assert.deepEqual(fs.readFileSync(live), before);
    assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"]);
    assert.equal((await httpGet(nginx.baseUrl + "/")).body, "blue");
  });

  it("re-running with identical content tests and reloads without rewriting the file", async function () {
    const first = await switchRoute(live, liveMap("portal_green"));
    assert.equal(first.code, 0, describeResult(first));
    await nginx.waitForBody("/", "green");
    const stat = fs.statSync(live);
    const reloads = nginx.reconfigurations();

    const again = await switchRoute(live, liveMap("portal_green"));
    assert.equal(again.code, 0, describeResult(again));
    assert.match(again.stderr, /unchanged/);
    const stat2 = fs.statSync(live);
    assert.equal(stat2.ino, stat.ino, "file was not replaced");
    assert.equal(stat2.mtimeMs, stat.mtimeMs);
    assert.equal(nginx.reconfigurations(), reloads + 1, "nginx was reloaded again, and that reload is over on exit");
    assert.equal((await httpGet(nginx.baseUrl + "/")).body, "green");
    assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"]);
  });

  it("restores the old file when interrupted while the config test runs", async function () {
    const before = fs.readFileSync(live);
    let pid = 0;
    const running = runScript("switch-route.sh", argsFor(live, { test: "sleep 20" }), {
      input: liveMap("portal_green"),
      detached: true,
      onSpawn: (child) => (pid = child.pid ?? 0),
    });
    // Wait until the new content is in place (the test command is running), then
    // signal the whole process group as a dropped ssh session / Ctrl-C would.
    // Also wait until the test command itself runs: a signal sent while bash is still forking
    // it would reach bash but not the not-yet-started child, and bash runs its trap only after
    // that child (sleep 20) ends.
    const until = Date.now() + 5000;
    while ((fs.readFileSync(live, "utf8") !== liveMap("portal_green") || !commandsInGroup(pid).includes("sleep")) && Date.now() < until) await sleep(20);
    assert.equal(fs.readFileSync(live, "utf8"), liveMap("portal_green"), "new content was swapped in");
    assert.ok(commandsInGroup(pid).includes("sleep"), "the test command is running");
    process.kill(-pid, "SIGTERM");
    const r = await running;
    assert.equal(r.code, 143, describeResult(r));
    assert.ok(r.ms < 5000, `exited promptly (${r.ms} ms)`);
    assert.match(r.stderr, /interrupted; restoring previous/);
    assert.deepEqual(fs.readFileSync(live), before);
    assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"]);
  });

  it("splits commands into words without globbing or eval; a reload that starts no workers fails at its timeout", async function () {
    // '*' must reach the command literally; `$(...)` must not run.
    const marker = path.join(nginx.prefix, "pwned");
    const before = fs.readFileSync(live);
    const r = await runScript("switch-route.sh", argsFor(live, { test: "test * = *", reload: `touch ${marker}$(id)`, timeout: 1 }), {
      input: liveMap("portal_green"),
    });
    assert.equal(fs.existsSync(`${marker}$(id)`), true, "reload ran with the literal word");
    assert.equal(fs.readdirSync(nginx.prefix).some((f) => f.startsWith("pwned") && f !== "pwned$(id)"), false);
    // touch signals nobody: the master keeps its workers, so the switch is not reported done.
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /nginx \(master \d+\) still had workers of its previous configuration accepting connections 1 s after the reload \(touch /);
    assert.deepEqual(fs.readFileSync(live), before, "previous live.conf restored");
    assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"]);
  });

  it("a fresh connection opened right after exit 0 always gets the new color (50 switches, 0 stale)", async function () {
  this.timeout(90_000);
    const stale: string[] = [];
    for (let i = 0; i < 50; i++) {
      const color = i % 2 === 0 ? "green" : "blue";
      const r = await switchAsProgram(live, liveMap(`portal_${color}`));
      assert.equal(r.code, 0, describeResult(r));
      const got = await httpGet(nginx.baseUrl + "/");
      if (got.body !== color) stale.push(`switch ${i + 1} to ${color}: got ${got.status} ${got.body}`);
    }
    assert.deepEqual(stale, [], "every GET after exit 0 saw the new configuration");
    assert.equal(nginx.reconfigurations(), 50, "one reconfiguration per switch");
  });

  it("a listener on a taken port passes nginx -t but the master rejects it: exit 1 with nginx's line, file restored", async function () {
  this.timeout(60_000);
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    try {
      const before = fs.readFileSync(live);
      const content = liveMap("portal_green") + `server { listen 127.0.0.1:${port}; return 200 "taken\\n"; }\n`;
      const test = await run("nginx", nginx.testCmd.split(" ").slice(1), { timeoutMs: 15_000 });
      assert.equal(test.code, 0, "the current config tests fine");

      const started = Date.now();
      const r = await switchAsProgram(live, content);
      assert.equal(r.code, 1, describeResult(r));
      assert.match(r.stderr, new RegExp(`\\[emerg\\] .*bind\\(\\) to 127\\.0\\.0\\.1:${port} failed \\(98: Address already in use\\)`), "nginx's own error line");
      assert.match(r.stderr, /switch-route: nginx rejected the reload/);
      assert.match(r.stderr, /restored previous .*live\.conf; nginx keeps serving its previous configuration/);
      assert.ok(Date.now() - started < 20_000, "fails well before its 30 s timeout");
      assert.deepEqual(fs.readFileSync(live), before, "live.conf is the file nginx serves");
      assert.deepEqual(portalEntries(), ["live.conf", "passive.conf", "upstreams.conf"], "no temp or backup file left");
      for (let i = 0; i < 5; i++) assert.equal((await httpGet(nginx.baseUrl + "/")).body, "blue");
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    // The next switch is not stuck behind the rejected one.
    const next = await switchAsProgram(live, liveMap("portal_green"));
    assert.equal(next.code, 0, describeResult(next));
    assert.equal((await httpGet(nginx.baseUrl + "/")).body, "green");
  });

  it("two switches of different files started 10 ms apart both end applied", async function () {
  this.timeout(60_000);
    for (let round = 0; round < 5; round++) {
      const color = round % 2 === 0 ? "green" : "blue";
      const first = switchAsProgram(live, liveMap(`portal_${color}`));
      await sleep(10);
      const second = switchAsProgram(passive, passiveMap(`portal_${color}`));
      const [a, b] = await Promise.all([first, second]);
      assert.equal(a.code, 0, describeResult(a));
      assert.equal(b.code, 0, describeResult(b));
      // Whichever exits last, both files serve once both have exited.
      assert.equal((await httpGet(nginx.baseUrl + "/")).body, color, `round ${round}: live`);
      assert.equal((await httpGet(nginx.baseUrl + "/passive/")).body, color, `round ${round}: passive`);
    }
  });

  it("prints a usage line and exits 2 on bad arguments", async function () {
    const pid = nginx.control.pidFile;
    const log = nginx.errorLog;
    for (const args of [
      [],
      [live, nginx.testCmd],
      [live, "", nginx.reloadCmd, pid, log, "30"],
      [live, nginx.testCmd, "  ", pid, log, "30"],
      [live, nginx.testCmd, nginx.reloadCmd, pid, log],
      [live, nginx.testCmd, nginx.reloadCmd, pid, log, "0"],
      [live, nginx.testCmd, nginx.reloadCmd, "", log, "30"],
    ]) {
      const r = await runScript("switch-route.sh", args, { input: liveMap("portal_green") });
      assert.equal(r.code, 2, describeResult(r));
      assert.match(r.stderr, /^switch-route: usage: switch-route\.sh TARGET TEST_CMD RELOAD_CMD/);
    }
    assert.equal(fs.readFileSync(live, "utf8"), liveMap("portal_blue"));
  });
});

/** The command names (comm) of the processes in process group `pgid`, read from /proc. */
function commandsInGroup(pgid: number): string[] {
  const names: string[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[2]) === pgid) names.push(stat.slice(stat.indexOf("(") + 1, close));
    } catch {
      // the process ended meanwhile
    }
  }
  return names;
}
