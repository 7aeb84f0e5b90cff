// npm run bench:plan — evaluates the program under the mock runtime for 1..200 generated
// servers and prints wall time and declared resources per size (aim: 100 servers < 5 s).
// Each size runs in a fresh process, as each `pulumi preview` does; module loading and a
// one-server warm-up are not counted.

import { execFileSync } from "node:child_process";
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

interface Row {
    servers: number;
    resources: number;
    seconds: number;
}

async function measure(servers: number): Promise<Row> {
    await evaluate(stackWith(1));
    const start = performance.now();
    const { resources } = await evaluate(stackWith(servers));
    return { servers, resources: resources.size, seconds: Number(((performance.now() - start) / 1000).toFixed(2)) };
}

function main(): void {
    const rows: Row[] = SIZES.map((size) => {
        const out = execFileSync(process.execPath, [...process.execArgv, __filename, "--size", String(size)], { encoding: "utf8" });
        return JSON.parse(out) as Row;
    });
    console.log("| servers | resources | resources per server | seconds |");
    console.log("|--------:|----------:|---------------------:|--------:|");
    for (const r of rows) {
        const perServer = r.servers > 1 ? ((r.resources - rows[0].resources) / (r.servers - 1)).toFixed(1) : "-";
        console.log(`| ${r.servers} | ${r.resources} | ${perServer} | ${r.seconds.toFixed(2)} |`);
    }
    console.log(JSON.stringify({ benchmark: "plan", rows }));
}

const sizeArg = process.argv.indexOf("--size");
if (sizeArg > 0) {
    void measure(Number(process.argv[sizeArg + 1])).then((row) => process.stdout.write(JSON.stringify(row)));
} else {
    main();
}
