// The project's name is spelled once (lib/model/project.ts) and is the Pulumi project's.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT } from "../../lib/model/project";
import { COMPOSE_PROJECT } from "../../lib/model/containers";
import { MAIN_PREFIX } from "../../lib/nginx/nginxRoutes";
import { composeProject, nginxPrefix } from "../../lib/model/tracks";
import { REPO } from "../support/stacks";

describe("the project's name", () => {
    it("is Pulumi.yaml's name, and every name derived from it follows it", () => {
        assert.equal((parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")) as { name: string }).name, PROJECT);
        assert.deepEqual([COMPOSE_PROJECT, MAIN_PREFIX, nginxPrefix({ name: "main", main: true })], [PROJECT, PROJECT, PROJECT]);
        assert.equal(composeProject({ name: "py3", main: false } as Parameters<typeof composeProject>[0]), `${PROJECT}-py3`);
    });
});
