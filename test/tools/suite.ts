// The mocha part of `npm test`: two groups at once, one per core. The mock-runtime group
// (config, release, plan, program, lib: CPU-bound evaluations, no server) runs beside the
// real-server group (scripts, routing, drills, ssh: mostly waiting on nginx, Docker and
// sshd), so neither waits for the other. The server group's output streams; the mock
// group's is printed after it, then both durations. Exit 0 only when both pass.
// `SUITE_SERIAL=1` runs them one after the other (to time or debug one group alone).

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const BASE = path.join(__dirname, "mocharc.json");
const MOCK_GROUP = ["config", "lib", "release", "plan", "program"];
const SERVER_GROUP = ["scripts", "routing", "drills", "ssh"];

interface GroupResult {
    name: string;
    code: number | null;
    seconds: number;
    output: string;
}

function group(name: string, dirs: string[], stream: boolean): Promise<GroupResult> {
    const started = Date.now();
    const specs = dirs.flatMap((d) => ["--spec", `test/${d}/**/*.test.ts`]);
    const child = spawn(process.execPath, [require.resolve("mocha/bin/mocha.js"), "--config", BASE, ...specs], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (chunk: Buffer) => {
        if (stream) process.stdout.write(chunk);
        else output += chunk.toString();
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    return new Promise((resolve) => child.on("close", (code) => resolve({ name, code, seconds: (Date.now() - started) / 1000, output })));
}

/** Folders of test/ holding test files that neither group runs (a new folder must join one). */
function unlisted(): string[] {
    const hasTests = (dir: string): boolean =>
        fs.readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? hasTests(path.join(dir, e.name)) : e.name.endsWith(".test.ts")));
    const listed = [...MOCK_GROUP, ...SERVER_GROUP];
    return fs.readdirSync(path.join(ROOT, "test"), { withFileTypes: true }).filter((e) => e.isDirectory() && !listed.includes(e.name) && hasTests(path.join(ROOT, "test", e.name))).map((e) => e.name);
}

async function main(): Promise<void> {
    const missing = unlisted();
    if (missing.length > 0) {
        process.stderr.write(`test/tools/suite.ts: test/${missing.join(", test/")} holds tests that no group runs; add the folder to MOCK_GROUP or SERVER_GROUP\n`);
        process.exitCode = 1;
        return;
    }
    const serial = process.env.SUITE_SERIAL === "1";
    const servers = group("real servers (test/" + SERVER_GROUP.join(", test/") + ")", SERVER_GROUP, true);
    const mocks = serial ? servers.then(() => group("mock runtime (test/" + MOCK_GROUP.join(", test/") + ")", MOCK_GROUP, false)) : group("mock runtime (test/" + MOCK_GROUP.join(", test/") + ")", MOCK_GROUP, false);
    const results = [await servers, await mocks];
    process.stdout.write(results[1].output);
    for (const r of results) process.stdout.write(`suite group ${r.name}: ${r.code === 0 ? "passed" : `FAILED (exit ${r.code})`} in ${r.seconds.toFixed(0)} s\n`);
    process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
}

void main();
