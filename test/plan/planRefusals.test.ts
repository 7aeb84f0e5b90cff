// The invalid configs, each through the plan CLI as an operator runs it (in-process):
// exit 1, the key named on stderr, nothing on stdout.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { runPlan } from "../../bin/plan";
import { loadStack } from "../support/stacks";

type Edit = (c: any) => void;

const INVALID: { name: string; edit: Edit; key: string }[] = [
    { name: "unknown color", edit: (c) => (c["portal:release"].live = "purple"), key: "portal:release.live" },
    { name: "passive tag missing", edit: (c) => delete c["portal:release"].tags.green, key: "portal:release.tags.green" },
    { name: "canary outside 0-100", edit: (c) => (c["portal:release"].canary = 120), key: "portal:release.canary" },
    { name: "canary with more than 2 decimals", edit: (c) => (c["portal:release"].canary = 0.125), key: "portal:release.canary" },
    { name: "canary while passive equals live", edit: (c) => Object.assign(c["portal:release"], { passive: "blue", canary: 5 }), key: "portal:release.canary" },
    { name: "tag outside Docker's grammar", edit: (c) => (c["portal:release"].tags.green = "v1;reboot"), key: "portal:release.tags.green" },
    { name: "host with shell characters", edit: (c) => (c["portal:servers"][1].host = "$(reboot)"), key: "portal:servers[1].host" },
    { name: "path with shell characters", edit: (c) => (c["portal:nginx"].confDir = "/etc/nginx/`id`"), key: "portal:nginx.confDir" },
    { name: "duplicate server names", edit: (c) => (c["portal:servers"][1].name = "web1"), key: "portal:servers" },
    { name: "duplicate host ports", edit: (c) => (c["portal:app"].hostPorts.green = 8001), key: "portal:app.hostPorts" },
    { name: "zero primaries", edit: (c) => (c["portal:servers"][0].primary = false), key: "portal:servers" },
    { name: "several primaries", edit: (c) => (c["portal:servers"][2].primary = true), key: "portal:servers" },
    { name: "a worker role with no command", edit: (c) => (c["portal:servers"][1].workers = ["mailer"]), key: "portal:servers[1].workers[0]" },
];

describe("offline plan refuses invalid config (exit 1, key on stderr, empty stdout)", function () {
    this.timeout(60000);
    for (const c of INVALID) {
        it(`refuses ${c.name}`, async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-refuse-"));
            try {
                const config = structuredClone(loadStack("production")) as any;
                c.edit(config);
                fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), stringify({ config }));
                const r = await runPlan(["--stack", "bad", "--json"], dir);
                assert.equal(r.code, 1, r.stderr);
                assert.equal(r.stdout, "");
                assert.match(r.stderr, /^invalid portal config:\n/);
                assert.ok(r.stderr.includes(`${c.key} `), `stderr names ${c.key}:\n${r.stderr}`);
                assert.match(r.stderr, /allowed|needs a tag/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    }

    it("usage errors exit 2", async () => {
        assert.equal((await runPlan([], os.tmpdir())).code, 2);
        assert.equal((await runPlan(["--stack", "nope"], os.tmpdir())).code, 2);
    });
});
