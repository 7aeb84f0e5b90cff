// The notices people read, end to end: the program (mock runtime) declares the notice
// commands; the ones the engine would run for a stage change (created, or changed) are run
// here, exactly as declared (command line and environment), against a real HTTP server
// standing in for Slack. One message per stage and stack, naming the servers and the
// operator; no "prepared" message on a deploy, an abort or a rollback.

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { startServer, type TestServer } from "../../harness/http";
import { describeResult, envWithoutProxy, REPO_ROOT, run } from "../../harness/run";
import { steadyBlue, withRelease, type ReleaseEdit } from "../support/stacks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const OLD = "2020.08.06-1";
const NEW = "2020.08.07-1";
type Edit = ReleaseEdit & { previous?: { color: string; tag: string; by: string } };

describe("stage notices: the program's notice commands against a real webhook", function () {
    this.timeout(120_000);
    let slack: TestServer;
    let webhook: string;

    before(async () => {
        slack = await startServer((_req, res) => {
            res.end("ok");
        });
        webhook = `${slack.url}/services/T000/B000/s3cret`;
    });
    after(async () => slack?.close());
    beforeEach(() => (slack.requests.length = 0));

    function stack(edit: Edit) {
        const { previous, ...release } = edit;
        const config = withRelease(steadyBlue(), release);
        if (previous) (config["portal:release"] as Record<string, unknown>).previous = previous;
        return config;
    }
    const evaluated = (edit: Edit) => evaluate(stack(edit), { "portal:slackWebhook": webhook });

    /** The notice commands a `pulumi up` from `before` to `after` runs: new ones, and those whose command changed. */
    function noticesToRun(before: Evaluation, after: Evaluation) {
        return [...after.resources.values()].filter((r) => r.name.includes("notify") && !isDeepStrictEqual(before.resources.get(r.urn)?.inputs, r.inputs));
    }

    /** Runs each notice as the local command provider would: its command line in the project directory, its environment added. */
    async function texts(before: Evaluation, after: Evaluation, operator = "alice"): Promise<string[]> {
        for (const notice of noticesToRun(before, after)) {
            const env = notice.inputs.environment as Record<string, unknown>;
            assert.ok(SECRET_SIG in env, `${notice.name}: the environment is a secret`);
            assert.ok(!String(notice.inputs.create).includes("s3cret"), `${notice.name}: no webhook in the command line`);
            const r = await run("bash", ["-c", String(notice.inputs.create)], {
                cwd: REPO_ROOT,
                env: envWithoutProxy({ ...(env as { value: Record<string, string> }).value, PORTAL_OPERATOR: operator }),
                timeoutMs: 20_000,
            });
            assert.equal(r.code, 0, describeResult(r));
        }
        return slack.requests.map((req) => (JSON.parse(req.body) as { text: string }).text);
    }

    const steadyOld: Edit = { tags: { blue: OLD, green: "2020.08.05-2" }, live: "blue", passive: "blue", canary: 0 };
    const prepared: Edit = { ...steadyOld, tags: { green: NEW }, passive: "green" };
    const deployed: Edit = { ...prepared, live: "green", previous: { color: "blue", tag: OLD, by: "deploy" } };
    const rolledBack: Edit = { ...deployed, live: "blue", passive: "blue", previous: { color: "green", tag: NEW, by: "rollback" } };

    it("prepare on 3 servers: one message, naming the stack, color, tag, servers and operator", async () => {
        assert.deepEqual(await texts(await evaluated(steadyOld), await evaluated(prepared)), ["test: green 2020.08.07-1 prepared on web1, web2, web3 (by alice)"]);
    });

    it("canary: one live message with the share", async () => {
        assert.deepEqual(await texts(await evaluated(prepared), await evaluated({ ...prepared, canary: 5 })), [
            "test: blue 2020.08.06-1 live on web1, web2, web3, 5% canary to green 2020.08.07-1 (by alice)",
        ]);
    });

    it("deploy: one live message saying what was live before; no prepared message", async () => {
        assert.deepEqual(await texts(await evaluated(prepared), await evaluated(deployed), "bob"), [
            "test: green 2020.08.07-1 live on web1, web2, web3 (deployed; blue 2020.08.06-1 before) (by bob)",
        ]);
    });

    it("rollback on 3 servers: one message saying it rolled back, and no prepared message", async () => {
        const before = await evaluated(deployed);
        const after = await evaluated(rolledBack);
        assert.deepEqual(await texts(before, after), ["test: rolled back to blue 2020.08.06-1 on web1, web2, web3 (from green 2020.08.07-1) (by alice)"]);
        assert.deepEqual(
            [...after.resources.values()].filter((r) => r.name.includes("notify")).map((r) => r.name),
            ["portal-notify-live"],
            "a steady stack declares no prepared notice",
        );
    });

    it("rollback by editing only live: one rolled-back message, and no prepared one though green stays passive", async () => {
        const byHand: Edit = { ...deployed, live: "blue", passive: "green" };
        assert.deepEqual(await texts(await evaluated(deployed), await evaluated(byHand)), [
            "test: rolled back to blue 2020.08.06-1 on web1, web2, web3 (from green 2020.08.07-1, still passive) (by alice)",
        ]);
    });

    it("abort: nothing is sent (live is unchanged) and the prepared notice goes", async () => {
        const after = await evaluated({ ...prepared, passive: "blue" });
        assert.deepEqual(await texts(await evaluated(prepared), after), []);
        assert.ok(![...after.resources.values()].some((r) => r.name === "portal-notify-prepared"));
    });

    it("each notice waits for its stage's step on every server", async () => {
        const e = await evaluated(prepared);
        const urn = (name: string) => [...e.resources.values()].find((r) => r.name === name)!.urn;
        const notice = (name: string) => [...e.resources.values()].find((r) => r.name === name)!;
        assert.deepEqual(notice("portal-notify-prepared").dependsOn, ["web1", "web2", "web3"].map((s) => urn(`${s}-route-passive`)));
        assert.deepEqual(
            notice("portal-notify-live").dependsOn,
            [["web1", "djobs", "cron"], ["web2"], ["web3", "djobs"]].flatMap(([s, ...workers]) => [urn(`${s}-record-live`), ...workers.map((w) => urn(`${s}-${w}`))]),
        );
    });
});
