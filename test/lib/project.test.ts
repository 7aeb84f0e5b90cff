// The project's name is spelled once (lib/model/project.ts) and is the Pulumi project's.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT } from "../../lib/model/project";
import { COMPOSE_PROJECT } from "../../lib/model/containers";
import { MAIN_PREFIX } from "../../lib/nginx/nginxRoutes";
import { namesOf } from "../../lib/model/tracks";
import { REPO } from "../support/stacks";

describe("the project's name", () => {
    it("is Pulumi.yaml's name, and every name derived from it follows it", () => {
        assert.equal((parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")) as { name: string }).name, PROJECT);
        assert.deepEqual([COMPOSE_PROJECT, MAIN_PREFIX, namesOf({ name: "main", main: true }).nginxPrefix], [PROJECT, PROJECT, PROJECT]);
        assert.equal(namesOf({ name: "py3", main: false }).composeProject, `${PROJECT}-py3`);
    });

    it("gives every name of a track from one object: the main track's are the single-track stack's, another's derive from its name", () => {
        const main = namesOf({ name: "main", main: true });
        const py3 = namesOf({ name: "py3", main: false });
        assert.deepEqual(
            [main.nginxPrefix, main.composeProject, main.scoped("live.conf"), main.scoped("route-live"), main.upstream("blue")],
            [PROJECT, PROJECT, "live.conf", "route-live", `${PROJECT}_blue`],
        );
        assert.deepEqual([py3.nginxPrefix, py3.composeProject, py3.scoped("live.conf"), py3.scoped("route-live"), py3.upstream("red")], ["py3", `${PROJECT}-py3`, "py3-live.conf", "py3-route-live", "py3_red"]);
    });
});
