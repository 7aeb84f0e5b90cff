// `npm run test:repeat -- N [mocha args]`: runs the mocha suite N times in a row and prints one
// line per failing test per run, then how often each test failed. Exit 1 if any run failed.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

interface MochaJson {
    stats: { passes: number; failures: number; pending: number; duration: number };
    failures: { fullTitle: string; err: { message?: string } }[];
}

const [countArg, ...mochaArgs] = process.argv.slice(2);
const runs = Number(countArg ?? "3");
if (!Number.isInteger(runs) || runs < 1) {
    process.stderr.write("usage: npm run test:repeat -- N [mocha args]   (N >= 1)\n");
    process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-repeat-"));
const failedTimes = new Map<string, number>();
let failedRuns = 0;
try {
    for (let i = 1; i <= runs; i++) {
        const out = path.join(dir, `run-${i}.json`);
        const started = Date.now();
        const r = spawnSync("npx", ["mocha", "--reporter", "json", "--reporter-option", `output=${out}`, ...mochaArgs], { stdio: ["ignore", "ignore", "inherit"] });
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        if (!fs.existsSync(out)) {
            process.stdout.write(`run ${i}: mocha wrote no report (exit ${r.status})\n`);
            failedRuns++;
            continue;
        }
        const report = JSON.parse(fs.readFileSync(out, "utf8")) as MochaJson;
        for (const f of report.failures) {
            const firstLine = (f.err.message ?? "").split("\n")[0];
            process.stdout.write(`run ${i}: FAILED ${f.fullTitle}: ${firstLine}\n`);
            failedTimes.set(f.fullTitle, (failedTimes.get(f.fullTitle) ?? 0) + 1);
        }
        if (report.stats.failures > 0 || r.status !== 0) failedRuns++;
        process.stdout.write(`run ${i}: ${report.stats.passes} passed, ${report.stats.failures} failed, ${report.stats.pending} pending in ${seconds} s\n`);
    }
} finally {
    fs.rmSync(dir, { recursive: true, force: true });
}
for (const [title, n] of failedTimes) process.stdout.write(`failed in ${n} of ${runs} runs: ${title}\n`);
process.stdout.write(`${runs - failedRuns} of ${runs} runs green\n`);
process.exit(failedRuns > 0 ? 1 : 0);
