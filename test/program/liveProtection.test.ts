// A config change that would replace the live color's container is refused at preview.
// The engine refuses to replace a resource that is protected in both the old and the new
// state (pulumi/pkg/resource/deploy/step_generator.go: `if new.Protect && old.Protect`,
// "unable to replace resource ... as it is currently marked for protection"). These tests
// prove the precondition: the live container is protected before and after such a change,
// while its image (a replace-forcing input of docker.Container) changes.

import assert from "node:assert/strict";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { diff } from "../../offline/diff";
import { steadyBlue, withRelease } from "../support/stacks";

const container = (e: Evaluation, name: string) => [...e.resources.values()].find((r) => r.name === name)!;

describe("the live color cannot be replaced by a config change (mock runtime)", function () {
    this.timeout(60000);

    it("changing the live color's tag replaces a container that is protected before and after: refused", async () => {
        const before = await evaluate(steadyBlue());
        const after = await evaluate(withRelease(steadyBlue(), { tags: { blue: "2020.08.09-1" } }));
        const changed = diff(before, after).changed;
        for (const s of ["web1", "web2", "web3"]) {
            assert.ok(changed.includes(`${s}-blue-container`));
            assert.notEqual(container(before, `${s}-blue-container`).inputs.image, container(after, `${s}-blue-container`).inputs.image);
            assert.equal(container(before, `${s}-blue-container`).protect, true);
            assert.equal(container(after, `${s}-blue-container`).protect, true);
        }
    });

    it("changing a canaried passive color's tag is refused too: it serves live traffic", async () => {
        const canary = withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green", canary: 5 });
        const before = await evaluate(canary);
        const after = await evaluate(withRelease(canary, { tags: { green: "2020.08.07-2" } }));
        assert.ok(diff(before, after).changed.includes("web2-green-container"));
        assert.equal(container(before, "web2-green-container").protect, true);
        assert.equal(container(after, "web2-green-container").protect, true);
    });

    it("preparing the passive color is allowed: it is not protected", async () => {
        const before = await evaluate(steadyBlue());
        const after = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, passive: "green" }));
        assert.equal(container(before, "web1-green-container").protect, false);
        assert.equal(container(after, "web1-green-container").protect, false);
    });

    it("a deploy moves the protection to the new live color, so the old one can be prepared next", async () => {
        const deployed = await evaluate(withRelease(steadyBlue(), { tags: { green: "2020.08.07-1" }, live: "green", passive: "green" }));
        assert.equal(container(deployed, "web1-green-container").protect, true);
        assert.equal(container(deployed, "web1-blue-container").protect, false);
    });
});
