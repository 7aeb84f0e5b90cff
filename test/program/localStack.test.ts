// The embedded `local` stack: same components, local Docker engine, no ssh, nginx in a
// container. It cannot be applied here (no Pulumi CLI, no registry); its config and the
// resources it declares are checked with mocks.

import assert from "node:assert/strict";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { diff } from "../../offline/diff";
import { loadStack, withRelease } from "../support/stacks";

describe("local stack (mock runtime)", function () {
    this.timeout(60000);
    let steady: Evaluation;
    let prepared: Evaluation;
    const find = (e: Evaluation, name: string) => [...e.resources.values()].find((r) => r.name === name);

    before(async () => {
        steady = await evaluate(loadStack("local"));
        prepared = await evaluate(withRelease(loadStack("local"), { tags: { green: "v1.10.3" }, passive: "green" }));
    });

    it("talks to the local engine over its unix socket and runs every step locally, never over ssh", () => {
        assert.deepEqual(find(steady, "local-docker")!.inputs, { host: "unix:///var/run/docker.sock" });
        const types = new Set([...steady.resources.values()].map((r) => r.type));
        assert.ok(!types.has("command:remote:Command") && !types.has("command:remote:CopyToRemote"), [...types].join(", "));
        assert.equal(find(steady, "local-scripts")!.inputs.create, "cp -R scripts /tmp/portal-local/");
    });

    it("runs nginx as a container on the host network reading the generated files", () => {
        assert.deepEqual(find(steady, "local-nginx")!.inputs, {
            name: "portal-nginx",
            image: find(steady, "local-nginx")!.inputs.image,
            networkMode: "host",
            pidMode: "host",
            restart: "unless-stopped",
            volumes: [
                { hostPath: "/tmp/portal-local/nginx", containerPath: "/etc/nginx/conf.d", readOnly: true },
                { hostPath: "/tmp/portal-local/nginx-run", containerPath: "/var/run" },
                { hostPath: "/tmp/portal-local/nginx-log", containerPath: "/var/log/nginx" },
            ],
            mustRun: false,
            destroyGraceSeconds: 10,
            removeVolumes: false,
        });
        assert.equal(find(steady, "local-nginx-image")!.inputs.name, "nginx:1.27-alpine");
        const site = String(find(steady, "local-site")!.inputs.stdin);
        assert.match(site, /listen 127\.0\.0\.1:8080;\n {4}location \/ \{\n {8}proxy_pass http:\/\/\$portal_live;/);
        assert.match(site, /listen 127\.0\.0\.1:8081;\n {4}location \/ \{\n {8}proxy_pass http:\/\/\$portal_passive;/);
        assert.equal(find(steady, "local-upstreams")!.inputs.create,
            "bash /tmp/portal-local/scripts/switch-route.sh /tmp/portal-local/nginx/upstreams.conf 'docker exec portal-nginx nginx -t' 'docker exec portal-nginx nginx -s reload' /tmp/portal-local/nginx-run/nginx.pid /tmp/portal-local/nginx-log/error.log 30");
    });

    it("runs the demo image's tags as blue and green, with no migrator and no workers", () => {
        assert.equal(find(steady, "local-blue-image")!.inputs.name, "traefik/whoami:v1.10.1");
        assert.equal(find(steady, "local-green-image")!.inputs.name, "traefik/whoami:v1.10.2");
        assert.equal([...steady.resources.values()].filter((r) => r.name.endsWith("-migrate")).length, 0);
    });

    it("a prepare on the local stack has the same shape as on servers", () => {
        assert.deepEqual(diff(steady, prepared), {
            added: [],
            removed: [],
            changed: ["local-compose", "local-green-container", "local-green-healthy", "local-green-image", "local-route-passive", "portal-release-stamp"],
        });
    });
});
