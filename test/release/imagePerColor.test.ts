// Image per color: the README's Python 2 -> 3 walk-through, step 4 ("Finish and retire"),
// exactly as written, through the release helper and the real program (offline, with the
// live guard reading the previous step's deployed state): set portal:image to the py3 image,
// `release prepare <py3 tag>`, `release deploy`; then the split back to 0, retire py3, remove it.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { parse, stringify } from "yaml";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { readStackFile } from "../../offline/plan";
import type { DeployedState } from "../../lib/model/liveGuard";
import { EDGE, PY3_TRACK } from "../support/stacks";
import { STEADY, stackDir, type StackDir } from "./fixtures";

const PY3_IMAGE = "registry.example.com/portal-py3";
const PY3_TAG = "py3-2020.08.20-1";
const SERVERS = ["web1", "web2", "web3"];

/** The production stack after steps 1-3: main steady on blue, py3 live on red, the edge at 100%. */
function afterStep3(): string {
    const doc = parse(STEADY) as { config: Record<string, any> };
    doc.config["portal:nginx"].site = { address: "0.0.0.0", live: 8080, passive: 8081 };
    doc.config["portal:tracks"] = [structuredClone(PY3_TRACK)];
    doc.config["portal:edge"] = { ...structuredClone(EDGE), split: { track: "py3", percent: 100 } };
    return stringify(doc);
}

function edit(s: StackDir, change: (config: Record<string, any>) => void): void {
    const doc = parse(s.read()) as { config: Record<string, any> };
    change(doc.config);
    fs.writeFileSync(s.file, stringify(doc));
}

const find = (e: Evaluation, name: string) => [...e.resources.values()].find((r) => r.name === name);

describe("image per color: the tracks walk-through step 4 as written (release helper + program offline)", function () {
    this.timeout(120000);
    let s: StackDir;
    let last: DeployedState;
    let e: Evaluation;
    before(() => (s = stackDir(afterStep3())));
    after(() => s.remove());

    /** Evaluates the stack file with the live guard against the previous step; that step becomes the last state. */
    async function up(): Promise<Evaluation> {
        const stack = readStackFile(s.file);
        const next = await evaluate(stack.config, stack.secrets, { lastDeployed: last });
        last = next.outputs.deployedState;
        return next;
    }

    it("steps 1-3 deployed", async () => {
        e = await up();
        assert.equal(find(e, "web1-blue-image")!.inputs.name, "registry.example.com/portal:2020.08.06-1");
    });

    it("set portal:image to the py3 image: no container or image of the main track changes", async () => {
        const before = e;
        edit(s, (c) => (c["portal:image"] = PY3_IMAGE));
        e = await up();
        for (const name of SERVERS.flatMap((sv) => [`${sv}-blue-image`, `${sv}-green-image`, `${sv}-blue-container`, `${sv}-green-container`, `${sv}-djobs`])) {
            const a = find(before, name);
            const b = find(e, name);
            assert.deepEqual(b?.inputs, a?.inputs, name);
        }
    });

    it("release prepare <py3 tag>: green gets the py3 repository and tag, blue (live) is untouched", async () => {
        const r = s.release(["prepare", PY3_TAG]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /portal:release\.images\.green {2}registry\.example\.com\/portal → registry\.example\.com\/portal-py3/);
        e = await up();
        for (const sv of SERVERS) {
            assert.equal(find(e, `${sv}-green-image`)!.inputs.name, `${PY3_IMAGE}:${PY3_TAG}`);
            assert.equal(find(e, `${sv}-blue-image`)!.inputs.name, "registry.example.com/portal:2020.08.06-1");
            assert.equal(find(e, `${sv}-blue-container`)!.protect, true);
        }
        assert.match(String(find(e, "web1-green-migrate")!.inputs.create), /registry\.example\.com\/portal-py3:py3-2020\.08\.20-1 python manage\.py migrate/);
    });

    it("release deploy: py3 goes live on the main track, the workers follow it", async () => {
        assert.equal(s.release(["deploy"]).code, 0);
        e = await up();
        assert.equal(find(e, "web1-green-container")!.protect, true);
        // The worker runs the live color's pulled image: green's, i.e. portal-py3:<tag>.
        assert.equal(find(e, "web1-djobs")!.inputs.image, find(e, "web1-green-container")!.inputs.image);
    });

    it("split back to 0, retire py3 and drop it from the edge, then remove it: each step passes the guard", async () => {
        edit(s, (c) => (c["portal:edge"].split = { track: "py3", percent: 0 }));
        await up();
        edit(s, (c) => {
            c["portal:tracks"][0].retired = true;
            delete c["portal:edge"].split;
            delete c["portal:edge"].trackPorts.py3;
        });
        await up();
        edit(s, (c) => delete c["portal:tracks"]);
        e = await up();
        assert.equal(find(e, "web1-red-container"), undefined);
    });
});
