// Run first by `npm test`: says which of the tools the suite runs for real is missing, and the
// command that installs it, instead of failing test by test.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { NJS_MODULE } from "../../harness/nginx";

interface Requirement {
    what: string;
    ok: () => boolean;
    install: string;
}

const runs = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: "ignore", timeout: 20_000 }).status === 0;

const REQUIREMENTS: Requirement[] = [
    { what: "nginx", ok: () => runs("nginx", ["-v"]), install: "apt-get install nginx" },
    { what: `nginx's njs module (${NJS_MODULE})`, ok: () => fs.existsSync(NJS_MODULE), install: "apt-get install libnginx-mod-http-js" },
    { what: "shellcheck", ok: () => runs("shellcheck", ["--version"]), install: "apt-get install shellcheck" },
    { what: "curl", ok: () => runs("curl", ["--version"]), install: "apt-get install curl" },
    { what: "flock (util-linux)", ok: () => runs("flock", ["--version"]), install: "apt-get install util-linux" },
    { what: "busybox (for the test image)", ok: () => runs("busybox", ["true"]), install: "apt-get install busybox-static" },
    { what: "the docker CLI", ok: () => runs("docker", ["--version"]), install: "apt-get install docker.io" },
    {
        what: "a running Docker daemon (docker info)",
        ok: () => runs("docker", ["info"]),
        install: "start dockerd (e.g. `dockerd >/tmp/dockerd.log 2>&1 &`, or `systemctl start docker`)",
    },
];

const missing = REQUIREMENTS.filter((r) => !r.ok());
if (missing.length > 0) {
    const lines = missing.map((r) => `  - ${r.what}: ${r.install}`);
    process.stderr.write(
        [
            `npm test runs its tests against real nginx, Docker and shell tools; missing on this machine:`,
            ...lines,
            `As root, \`bash .ci/run\` installs and starts all of it, then runs npm test.`,
            "",
        ].join("\n"),
    );
    process.exit(1);
}
