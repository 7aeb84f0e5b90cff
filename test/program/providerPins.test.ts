// The provider facts the program relies on (cited in components/*.ts) were read at these
// versions. An upgrade must re-read them: this test fails until the pins below are moved,
// which is the moment to re-check each citation.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO } from "../support/stacks";

const installed = (pkg: string) => JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", pkg, "package.json"), "utf8")).version as string;
const declared = (pkg: string) => JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).dependencies[pkg] as string;

describe("provider pins the citations were read at", () => {
    // 5.0.0 = kreuzwerker/terraform-provider-docker v4.2.0 (pulumi-docker@v5.0.0 `upstream`
    // submodule): log_opts kept out of state unless configured (v4.1.0, #888) and no delete
    // of a stopped container on read. 4.x (kreuzwerker v3.9.0) replaces every container on
    // a server whose daemon sets default log-opts.
    for (const [pkg, version] of [
        ["@pulumi/docker", "5.0.0"],
        ["@pulumi/command", "1.2.1"],
        ["@pulumi/pulumi", "3.248.0"],
    ]) {
        it(`${pkg} is pinned exactly at ${version}`, () => {
            assert.equal(declared(pkg), version);
            assert.equal(installed(pkg), version);
        });
    }
});
