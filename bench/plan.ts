// npm run bench:plan — evaluates the program under the mock runtime for 1..200 generated
// servers and prints wall time and declared resources per size (aim: 100 servers < 5 s).

import { performance } from "node:perf_hooks";
import { evaluate } from "../offline/evaluate";
import { readStackFile } from "../offline/plan";

const SIZES = [1, 10, 50, 100, 200];

function stackWith(servers: number) {
    const { config } = readStackFile("Pulumi.production.yaml");
    const list = Array.from({ length: servers }, (_, i) => ({
        name: `web${i + 1}`,
        host: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        primary: i === 0,
        workers: i === 0 ? ["djobs", "cron"] : [],
    }));
    return { ...config, "portal:servers": list };
}

async function main(): Promise<void> {
    const rows: { servers: number; resources: number; perServer: number; seconds: number }[] = [];
    await evaluate(stackWith(1)); // warm-up: module loading is not the program's cost
    for (const servers of SIZES) {
        const start = performance.now();
        const { resources } = await evaluate(stackWith(servers));
        const seconds = (performance.now() - start) / 1000;
        rows.push({ servers, resources: resources.size, perServer: Number(((resources.size - 3) / servers).toFixed(1)), seconds: Number(seconds.toFixed(2)) });
    }
    console.log("servers | resources | per server | seconds");
    for (const r of rows) console.log(`${String(r.servers).padStart(7)} | ${String(r.resources).padStart(9)} | ${String(r.perServer).padStart(10)} | ${r.seconds.toFixed(2).padStart(7)}`);
    console.log(JSON.stringify({ benchmark: "plan", rows }));
}

void main();
