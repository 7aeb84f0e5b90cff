// Drill: a route switch SIGKILLed at each point (no trap can run), then run again. Real
// nginx, real color containers, the program's own scripts, argv and rendered files.
// The kill points are reached without editing the scripts:
//   - "mid-write": half the content sent on stdin, the group killed from outside while
//     `cat >tmp` waits for the rest;
//   - PATH shims: a command the script runs at that point (`cat`, `sync`, `mv`, `perl`)
//     records the point and SIGKILLs the script's whole process group (`mv` renames first).
//     The reload-free scripts check the state with bash builtins (no process start, so no
//     shim): killed there, they leave what the `sync` point leaves.
//   - TEST_CMD / RELOAD_CMD (reload mode): a kill script in their place.
// After each kill: the route file is exactly the old or exactly the new content (never a
// mix), nginx -t passes, nginx serves a whole color, and no leftover is a name nginx's
// `include *.conf` could pick up. Running the same switch again converges: the file holds
// the new content, nginx serves it, and the re-run leaves no temp file of its own.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ReleaseConfig } from "../../lib/config/config";
import type { RouteModeName } from "../../lib/nginx/routeModes";
import { ShellCommand } from "../../lib/server/shell";
import { startDrillNginx, type DrillNginx } from "../../harness/drillNginx";
import { DrillServer, type RouteStep } from "../../harness/drillServer";
import { phaseFigures, withSendTimes } from "../../harness/stats";
import { colorBody, colorContainersForSuite, waitForColor } from "../../harness/colorContainers";
import { freePort, httpGet } from "../../harness/http";
import { startLoad } from "../../harness/load";
import { describeResult, envWithoutProxy, makeTempDir, removeTempDir, run, sleep } from "../../harness/run";

const BLUE: ReleaseConfig = { tags: { blue: "v1", green: "v2" }, live: "blue", passive: "green", canary: 0 };
const GREEN: ReleaseConfig = { tags: { blue: "v1", green: "v2" }, live: "green", passive: "green", canary: 0 };
const OLD_BODY = colorBody("blue", "v1");
const NEW_BODY = colorBody("green", "v2");

/** A kill point: records `<name> <args>` in $DRILL_KILL_LOG, then SIGKILLs its process group. */
function killScript(before = ""): string {
    return `#!/bin/sh
${before}
# SIGKILL the switch script's whole process group; refuse any other group.
read -r _pid _comm _state _ppid pgid _rest </proc/$$/stat
case "$(tr '\\0' ' ' <"/proc/$pgid/cmdline" 2>/dev/null)" in
  *switch-route.sh*|*switch-state.sh*|*switch-lua.sh*) ;;
  *) echo "kill point: group $pgid is not a switch script; refusing" >&2; exit 99 ;;
esac
printf '%s\\n' "\${0##*/} $*" >>"$DRILL_KILL_LOG"
kill -KILL "-$pgid"
sleep 10
`;
}

interface KillCase {
    point: string;
    /** How the point is reached. */
    how: "mid-write" | { shim: "cat" | "sync" | "mv" | "perl" } | { testCmd: true } | { reloadCmd: true };
    /** The route file right after the kill. */
    fileAfterKill: "old" | "new";
    /** The color nginx serves right after the kill. */
    servesAfterKill: "old" | "new";
    /** Hidden files the SIGKILL leaves next to the route file (no trap removes them). */
    leaves: Array<"empty temp" | "temp with half the new content" | "temp with the new content" | "backup of the old file">;
}

const CASES: Record<RouteModeName, KillCase[]> = {
    reload: [
        { point: "while writing the temp file (half the content read)", how: "mid-write", fileAfterKill: "old", servesAfterKill: "old", leaves: ["temp with half the new content"] },
        { point: "after writing the temp file, before the rename (sync)", how: { shim: "sync" }, fileAfterKill: "old", servesAfterKill: "old", leaves: ["temp with the new content"] },
        // The new file is in place but nginx still runs the old one: any later reload applies it.
        { point: "after the rename, during nginx -t (TEST_CMD)", how: { testCmd: true }, fileAfterKill: "new", servesAfterKill: "old", leaves: ["backup of the old file"] },
        { point: "after nginx -t passed, before the reload (RELOAD_CMD)", how: { reloadCmd: true }, fileAfterKill: "new", servesAfterKill: "old", leaves: ["backup of the old file"] },
    ],
    state: [
        { point: "while writing the temp file (half the content read)", how: "mid-write", fileAfterKill: "old", servesAfterKill: "old", leaves: ["temp with half the new content"] },
        { point: "after creating the temp file, before copying stdin into it (cat)", how: { shim: "cat" }, fileAfterKill: "old", servesAfterKill: "old", leaves: ["empty temp"] },
        { point: "after the check, right before the rename (sync)", how: { shim: "sync" }, fileAfterKill: "old", servesAfterKill: "old", leaves: ["temp with the new content"] },
        // The rename is the switch: the router follows the new file at once.
        { point: "right after the rename (mv)", how: { shim: "mv" }, fileAfterKill: "new", servesAfterKill: "new", leaves: [] },
    ],
    lua: [
        { point: "while writing the temp file (half the content read)", how: "mid-write", fileAfterKill: "old", servesAfterKill: "old", leaves: ["temp with half the new content"] },
        { point: "after creating the temp file, before copying stdin into it (cat)", how: { shim: "cat" }, fileAfterKill: "old", servesAfterKill: "old", leaves: ["empty temp"] },
        { point: "after the check, right before the rename (sync)", how: { shim: "sync" }, fileAfterKill: "old", servesAfterKill: "old", leaves: ["temp with the new content"] },
        // The file is switched, nginx's dictionary not yet: it serves the old route until a
        // later switch in this directory (or an nginx start or reload) re-reads the files.
        { point: "right after the rename (mv)", how: { shim: "mv" }, fileAfterKill: "new", servesAfterKill: "old", leaves: [] },
        { point: "after the rename, asking nginx to re-read (perl)", how: { shim: "perl" }, fileAfterKill: "new", servesAfterKill: "old", leaves: [] },
    ],
};

describe("drill: a live switch SIGKILLed at each point, then run again", function () {
    this.timeout(60_000);
    const tag = `drill-kill-${process.pid}`;
    const { hostPorts } = colorContainersForSuite(tag);

    for (const mode of ["reload", "state", "lua"] as const) {
        describe(`${mode} mode`, function () {
            let nginx: DrillNginx;
            let server: DrillServer;
            let shims: string;
            let killLog: string;
            let livePort: number;
            let oldRoute: RouteStep;
            let newRoute: RouteStep;

            const entries = () => fs.readdirSync(nginx.confDir).sort();
            const hidden = () => entries().filter((e) => e.startsWith("."));
            const liveBody = async () => (await httpGet(`http://127.0.0.1:${livePort}/`)).body;
            const nginxTest = async () => {
                const [file, ...args] = nginx.testCmd.split(" ");
                return run(file, args, { timeoutMs: 20_000 });
            };

            before(async function () {
                nginx = await startDrillNginx({ njs: mode === "state", lua: mode === "lua", workerProcesses: "1" });
                livePort = await freePort();
                server = new DrillServer({
                    mode,
                    confDir: nginx.confDir,
                    nginx: nginx.control,
                    hostPorts,
                    site: { live: livePort, passive: await freePort() },
                    release: BLUE,
                    migrate: [],
                    clock: () => 0,
                });
                await server.setup();
                await server.publishPassive(BLUE);
                oldRoute = server.liveRoute(BLUE);
                newRoute = server.liveRoute(GREEN);
                shims = makeTempDir("drill-shims");
                killLog = path.join(shims, "kill.log");
                const realMv = fs.existsSync("/usr/bin/mv") ? "/usr/bin/mv" : "/bin/mv";
                const write = (name: string, text: string) => fs.writeFileSync(path.join(shims, name), text, { mode: 0o755 });
                write("kill-point", killScript());
                for (const name of ["cat", "sync", "perl"]) {
                    fs.mkdirSync(path.join(shims, name));
                    write(path.join(name, name), killScript());
                }
                fs.mkdirSync(path.join(shims, "mv"));
                write(path.join("mv", "mv"), killScript(`${realMv} "$@" || exit $?`));
            });

            after(async function () {
                await nginx?.stop();
                server?.cleanup();
                removeTempDir(shims);
            });

            beforeEach(async function () {
                // Every case starts from blue live, with nothing but the program's files in the conf dir.
                for (const name of hidden()) fs.rmSync(path.join(nginx.confDir, name));
                await server.publishLive(BLUE);
                await waitForColor(livePort, OLD_BODY);
                await nginx.settled();
                fs.writeFileSync(killLog, "");
            });

            for (const c of CASES[mode]) {
                it(`killed ${c.point}: ${c.fileAfterKill} file, serving ${c.servesAfterKill}; re-running converges`, async function () {
                    const before = entries();
                    assert.equal(fs.readFileSync(oldRoute.path, "utf8"), oldRoute.content, "blue is live before the switch");
                    const reloadsBefore = nginx.reconfigurations();
                    // Fresh-connection clients run through the kill (a reload would reset keep-alive
                    // connections, which the kill drills are not about); the state router never reloads.
                    const load = startLoad({ url: `http://127.0.0.1:${livePort}/`, keepAliveClients: mode === "reload" ? 0 : 2, freshClients: 2, durationMs: 20_000 });

                    // -- the killed run
                    let killed: { code: number | null; signal: NodeJS.Signals | null; stderr: string };
                    if (c.how === "mid-write") {
                        killed = await killMidWrite(newRoute, nginx.confDir);
                    } else {
                        let command = newRoute.command;
                        let env: NodeJS.ProcessEnv = { DRILL_KILL_LOG: killLog };
                        if ("shim" in c.how) {
                            env = { ...env, PATH: `${path.join(shims, c.how.shim)}:${process.env.PATH}` };
                        } else {
                            const argv = [...command.argv];
                            const replaced = argv.indexOf("testCmd" in c.how ? nginx.testCmd : nginx.reloadCmd);
                            assert.ok(replaced > 0, "the switch command carries the nginx command");
                            argv[replaced] = path.join(shims, "kill-point");
                            command = new ShellCommand(argv);
                        }
                        killed = await server.exec("killed switch", command, newRoute.content, { env, detached: true });
                        const expected = "shim" in c.how ? c.how.shim : "kill-point";
                        assert.match(fs.readFileSync(killLog, "utf8"), new RegExp(`^${expected}\\b`, "m"), `the ${expected} kill point was reached`);
                    }
                    assert.equal(killed.signal, "SIGKILL", `the switch died of SIGKILL: ${killed.code} ${killed.stderr}`);
                    assert.doesNotMatch(killed.stderr, /interrupted; restoring/, "no trap ran");

                    // -- what a SIGKILL leaves
                    const fileAfterKill = fs.readFileSync(newRoute.path, "utf8");
                    assert.equal(fileAfterKill, c.fileAfterKill === "old" ? oldRoute.content : newRoute.content, "the route file is whole: exactly the old or the new content");
                    const leftovers = hidden();
                    const half = newRoute.content.slice(0, Math.floor(newRoute.content.length / 2));
                    const found = leftovers.map((name) => {
                        assert.ok(!name.endsWith(".conf"), `${name} is never included by nginx (*.conf)`);
                        assert.match(name, new RegExp(`^\\.${newRoute.file.replace(".", "\\.")}\\.(tmp|bak)\\.[A-Za-z0-9]{6}$`), `leftover ${name} is the switch's own temp/backup name`);
                        const content = fs.readFileSync(path.join(nginx.confDir, name), "utf8");
                        if (name.includes(".bak.") && content === oldRoute.content) return "backup of the old file";
                        if (name.includes(".tmp.") && content === newRoute.content) return "temp with the new content";
                        if (name.includes(".tmp.") && content === half) return "temp with half the new content";
                        if (name.includes(".tmp.") && content === "") return "empty temp";
                        return `${name}: ${JSON.stringify(content)}`;
                    });
                    assert.deepEqual(found, c.leaves, "what the SIGKILL left next to the route file");
                    const t = await nginxTest();
                    assert.equal(t.code, 0, `nginx -t passes with what the kill left:\n${describeResult(t)}`);
                    const expectBody = c.servesAfterKill === "old" ? OLD_BODY : NEW_BODY;
                    assert.equal(await liveBody(), expectBody);
                    if (mode === "reload") assert.equal(nginx.reconfigurations(), reloadsBefore, "the killed run never reloaded nginx");
                    await sleep(300);
                    load.stop();
                    const figures = phaseFigures(withSendTimes(await load.done), -Infinity, Infinity);
                    assert.ok(figures.requests > 0, "the load ran");
                    assert.equal(figures.failures, 0, `no failed request around the kill: ${JSON.stringify(figures.errors)}`);
                    for (const label of Object.keys(figures.byLabel)) assert.ok([OLD_BODY.trim(), NEW_BODY.trim()].includes(label), `whole colors only, got ${label}`);

                    // -- running the same switch again converges
                    const again = await server.exec("switch again", newRoute.command, newRoute.content);
                    assert.equal(again.code, 0, `${again.stdout}${again.stderr}`);
                    assert.equal(fs.readFileSync(newRoute.path, "utf8"), newRoute.content);
                    await waitForColor(livePort, NEW_BODY, { timeoutMs: 10_000 });
                    await nginx.settled();
                    assert.equal(await liveBody(), NEW_BODY);
                    const t2 = await nginxTest();
                    assert.equal(t2.code, 0, describeResult(t2));
                    // Only the program's files: the re-run restored or removed what the killed run left.
                    assert.deepEqual(entries().filter((e) => !e.startsWith(".")), before.filter((e) => !e.startsWith(".")));
                    assert.deepEqual(hidden(), [], "no temp or backup file remains");
                });
            }
        });
    }
});

/**
 * Starts the switch in its own process group, sends half the content on stdin, waits until
 * a file in the conf dir (the script's temp file, when it writes atomically) holds exactly
 * that half, then SIGKILLs the group from outside while the script waits for the rest.
 */
async function killMidWrite(route: RouteStep, confDir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    const [file, ...args] = route.command.argv;
    const child = spawn(file, args, { detached: true, stdio: ["pipe", "ignore", "pipe"], env: envWithoutProxy() });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    const half = route.content.slice(0, Math.floor(route.content.length / 2));
    child.stdin.write(half);
    const holdsHalf = (name: string) => {
        try {
            return fs.readFileSync(path.join(confDir, name), "utf8") === half;
        } catch {
            return false;
        }
    };
    const until = Date.now() + 10_000;
    while (!fs.readdirSync(confDir).some(holdsHalf)) {
        if (Date.now() > until) {
            process.kill(-child.pid!, "SIGKILL");
            throw new Error(`no file ever held the first half: ${stderr}`);
        }
        await sleep(10);
    }
    process.kill(-child.pid!, "SIGKILL");
    const r = await exited;
    child.stdin.destroy();
    return { ...r, stderr };
}
