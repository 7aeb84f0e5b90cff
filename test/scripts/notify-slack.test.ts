// notify-slack.sh against a local webhook server on 127.0.0.1.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { startServer, type TestServer } from "../../harness/http";
import { describeResult, envWithoutProxy, runScript } from "../../harness/run";

const SECRET = "T000/B000/xoxSeCrEtToKeN42";

/** Command lines of every process currently visible in /proc. */
function allCmdlines(): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      out.push(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
    } catch {
      /* process exited */
    }
  }
  return out;
}

describe("scripts/notify-slack.sh (local webhook)", function () {
  this.timeout(20_000);
  let server: TestServer;
  let status = 200;
  let cmdlinesDuringRequest: string[] = [];

  before(async function () {
    server = await startServer((_req, res) => {
      // curl is still running while we answer: snapshot what `ps` would show.
      cmdlinesDuringRequest = allCmdlines();
      res.statusCode = status;
      res.end(status === 200 ? "ok" : "boom");
    });
  });
  after(async function () {
    await server?.close();
  });
  beforeEach(function () {
    status = 200;
    server.requests.length = 0;
    cmdlinesDuringRequest = [];
  });

  /** url null: SLACK_WEBHOOK_URL is not set at all. The operator is alice unless `who` says otherwise. */
  const notify = (args: string[], url: string | null = `${server.url}/services/${SECRET}`, who: NodeJS.ProcessEnv = { PORTAL_OPERATOR: "alice" }) => {
    const env = envWithoutProxy({ ...(url === null ? {} : { SLACK_WEBHOOK_URL: url }), ...who });
    if (url === null) delete env.SLACK_WEBHOOK_URL;
    for (const key of ["PORTAL_OPERATOR", "USER"]) if (!(key in who)) delete env[key];
    return runScript("notify-slack.sh", args, { env });
  };

  it("posts {\"text\": MESSAGE} as valid JSON, escaping quotes, backslashes and control chars", async function () {
    const message = 'Deployed "portal" 1.2.3 \\ green\nline two\ttab \u0001 ünïcødé {json: "no"}';
    const r = await notify([message]);
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(server.requests.length, 1);
    const req = server.requests[0]!;
    assert.equal(req.method, "POST");
    assert.equal(req.url, `/services/${SECRET}`);
    assert.match(String(req.headers["content-type"]), /^application\/json/);
    assert.deepEqual(JSON.parse(req.body), { text: `${message} (by alice)` });
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), "webhook URL not printed");
  });

  it("names the operator: PORTAL_OPERATOR, else USER, else an unknown operator", async function () {
    const texts: string[] = [];
    for (const who of [{ PORTAL_OPERATOR: "alice", USER: "deploy" }, { USER: "bob" }, {}, { PORTAL_OPERATOR: "x\u0007y", USER: "bob" }]) {
      const r = await notify(["production: green 2020.08.07-1 prepared on web1, web2, web3"], undefined, who);
      assert.equal(r.code, 0, describeResult(r));
      texts.push((JSON.parse(server.requests[server.requests.length - 1]!.body) as { text: string }).text);
    }
    assert.deepEqual(texts, [
      "production: green 2020.08.07-1 prepared on web1, web2, web3 (by alice)",
      "production: green 2020.08.07-1 prepared on web1, web2, web3 (by bob)",
      "production: green 2020.08.07-1 prepared on web1, web2, web3 (by an unknown operator)",
      "production: green 2020.08.07-1 prepared on web1, web2, web3 (by an unknown operator)",
    ]);
  });

  it("keeps the webhook URL out of every process's argv", async function () {
    const r = await notify(["argv check"]);
    assert.equal(r.code, 0, describeResult(r));
    assert.ok(cmdlinesDuringRequest.length > 0);
    assert.ok(
      cmdlinesDuringRequest.some((c) => /\bcurl\b/.test(c)),
      "curl was running when the request arrived",
    );
    const leaks = cmdlinesDuringRequest.filter((c) => c.includes(SECRET));
    assert.deepEqual(leaks, []);
  });

  it("exits 2 without SLACK_WEBHOOK_URL and posts nothing", async function () {
    const r = await notify(["hello"], null);
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /notify-slack: SLACK_WEBHOOK_URL is not set/);
    const empty = await notify(["hello"], "");
    assert.equal(empty.code, 2, describeResult(empty));
    assert.equal(server.requests.length, 0);
  });

  it("exits 1 when the webhook answers 500, without printing the URL", async function () {
    status = 500;
    const r = await notify(["hello"]);
    assert.equal(r.code, 1, describeResult(r));
    assert.equal(server.requests.length, 1, "the post was attempted");
    assert.match(r.stderr, /notify-slack: notification failed \(curl exit 22, HTTP 500\)/);
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));
  });

  it("exits 1 when the webhook is unreachable", async function () {
    const r = await notify(["hello"], `http://127.0.0.1:9/services/${SECRET}`);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /notification failed/);
    assert.ok(!r.stderr.includes(SECRET));
  });

  it("prints a usage line and exits 2 on bad arguments", async function () {
    for (const args of [[], ["a", "b"]]) {
      const r = await notify(args);
      assert.equal(r.code, 2, describeResult(r));
      assert.match(r.stderr, /^notify-slack: usage: SLACK_WEBHOOK_URL=URL notify-slack\.sh MESSAGE/);
    }
    assert.equal(server.requests.length, 0);
  });
});
