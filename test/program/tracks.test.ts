// Side-by-side generations: a second track (py3, red/black) beside the main one, and an
// edge splitting traffic between them. Every independence claim is a mock diff.

import assert from "node:assert/strict";
import { diff, perServer } from "../../offline/diff";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import { EDGE, PY3_TRACK, productionWithSite, steadyBlue, withMode, withRelease, withTrackRelease, withTracks } from "../support/stacks";

const SECRETS = { "portal:slackWebhook": "https://hooks.slack.example/T000/B000/XXXX" };
const SERVERS = ["web1", "web2", "web3"];
const sorted = (names: string[]) => [...names].sort();
const find = (e: Evaluation, name: string) => {
    const r = [...e.resources.values()].find((x) => x.name === name);
    assert.ok(r, `no resource ${name}`);
    return r;
};

// The single-track production stack's resource names: a rename would make existing stacks
// replace everything, so they are pinned here. (The notices are one per stage and stack,
// not per server: the old per-server notice commands are deleted, which runs nothing.)
const SINGLE_TRACK_NAMES = [
    "portal",
    // Sticky canaries (the production stack): one cohort salt per release.
    "portal-canary-salt",
    "portal-release-stamp",
    "portal-notify-live",
    ...SERVERS.flatMap((s) => [
        s,
        `${s}-docker`,
        `${s}-preflight`,
        `${s}-setup`,
        `${s}-scripts`,
        `${s}-blue-image`,
        `${s}-green-image`,
        `${s}-compose`,
        `${s}-blue-env`,
        `${s}-green-env`,
        `${s}-blue`,
        `${s}-blue-container`,
        `${s}-blue-healthy`,
        `${s}-green`,
        `${s}-green-container`,
        `${s}-green-healthy`,
        `${s}-routing`,
        `${s}-upstreams`,
        `${s}-router`,
        `${s}-route-passive`,
        `${s}-promotion`,
        `${s}-live-healthy`,
        `${s}-compose-symlink`,
        `${s}-route-live`,
        `${s}-record-live`,
        `${s}-workers`,
        `${s}-prune`,
    ]),
    "web1-blue-migration",
    "web1-blue-migrate",
    "web1-green-migration",
    "web1-green-migrate",
    "web1-djobs",
    "web1-cron",
    "web3-djobs",
];

for (const mode of ["state", "reload"] as const) {
    describe(`tracks and edge (mock runtime, production stack, ${mode} mode)`, function () {
        this.timeout(60000);
        const base = withMode(productionWithSite(), mode);
        const twoTracks = withTracks(base);
        let single: Evaluation;
        let both: Evaluation;

        before(async () => {
            single = await evaluate(base, SECRETS);
            both = await evaluate(twoTracks, SECRETS);
        });

        it("a single-track stack keeps its resource names", async () => {
            const plain = await evaluate(withMode(steadyBlue(), mode), SECRETS);
            const expected = mode === "state" ? SINGLE_TRACK_NAMES : SINGLE_TRACK_NAMES.map((n) => n.replace(/-router$/, "-routes-init"));
            assert.deepEqual(sorted([...plain.resources.values()].map((r) => r.name)), sorted(expected));
        });

        it("adding a track and an edge changes nothing of the main track: every URN and input stays", () => {
            const d = diff(single, both);
            assert.deepEqual(d.removed, []);
            assert.deepEqual(d.changed, []);
            assert.ok(d.added.length > 0);
            for (const name of d.added) assert.match(name, /py3|red|black|^lb1/, `${name} was added to the main track`);
            assert.deepEqual(both.outputs.servers, single.outputs.servers);
        });

        it("a track's names derive from its name: directory, compose project, upstreams, files", () => {
            assert.equal(find(both, "web2-red-container").inputs.name, "portal-py3-red");
            assert.match(String(find(both, "web2-py3-compose").inputs.create), /write-compose\.sh \/srv\/portal-py3 /);
            assert.match(String(find(both, "web2-py3-record-live").inputs.create), /record-live\.sh \/srv\/portal-py3 red py3-2020\.08\.01-1$/);
            assert.equal(both.outputs.tracks.py3.servers.web2.liveColorFile, "/srv/portal-py3/live-color");
            assert.match(String(find(both, "web2-py3-upstreams").inputs.stdin), /upstream py3_red \{\n {4}server 127\.0\.0\.1:8011 /);
            const live = find(both, "web2-py3-route-live").inputs;
            const site = String(find(both, "web2-py3-site").inputs.stdin);
            if (mode === "state") {
                assert.equal(live.stdin, '{"upstream":"py3_red"}\n');
                assert.match(String(live.create), /switch-state\.sh \/etc\/nginx\/portal\/py3-live\.state$/);
                assert.match(site, /listen 0\.0\.0\.0:8180;\n {4}set \$portal_track py3;\n {4}location \/ \{\n {8}proxy_pass http:\/\/\$portal_live;/);
            } else {
                assert.match(String(live.stdin), /map \$host \$py3_live \{\n {4}default py3_red;/);
                assert.match(String(live.create), /switch-route\.sh \/etc\/nginx\/portal\/py3-live\.conf /);
                assert.match(site, /listen 0\.0\.0\.0:8180;\n {4}location \/ \{\n {8}proxy_pass http:\/\/\$py3_live;/);
                assert.equal(find(both, "web2-py3-routes-init").inputs.create, "bash /srv/portal/scripts/init-routes.sh /etc/nginx/portal py3");
            }
        });

        it("preparing track py3 changes only py3's resources", async () => {
            const prepared = await evaluate(withTrackRelease(twoTracks, "py3", { tags: { black: "py3-2020.08.09-1" }, passive: "black" }), SECRETS);
            assert.deepEqual(diff(both, prepared), {
                added: sorted(["portal-py3-notify-prepared", "web1-black-migration", "web1-black-migrate", ...perServer(SERVERS, ["black-image", "black-env", "black", "black-container", "black-healthy"])]),
                removed: [],
                changed: sorted(["portal-py3-canary-salt", "portal-py3-release-stamp", ...perServer(SERVERS, ["py3-compose", "py3-route-passive"])]),
            });
            assert.deepEqual(prepared.outputs.servers, both.outputs.servers);
            assert.equal(prepared.outputs.tracks.py3.stage, "prepared");
        });

        it("deploying the main track changes nothing of py3 or the edge", async () => {
            const deployed = await evaluate(withRelease(twoTracks, { live: "green" }), SECRETS);
            const changed = diff(both, deployed).changed;
            assert.ok(changed.includes("web1-route-live"));
            for (const name of changed) assert.doesNotMatch(name, /py3|red|black|lb1/);
        });

        it("changing the edge split rewrites only the edge route", async () => {
            const raised = await evaluate(withTracks(base, [PY3_TRACK], { ...EDGE, split: { track: "py3", percent: 5 } }), SECRETS);
            assert.deepEqual(diff(both, raised), { added: [], removed: [], changed: ["lb1-edge-route"] });
            const content = String(find(raised, "lb1-edge-route").inputs.stdin);
            if (mode === "state") {
                assert.equal(content, '{"upstream":"edge_main","canary":{"upstream":"edge_py3","basisPoints":500,"sticky":true,"cookie":"portal_client"}}\n');
            } else {
                assert.match(content, /split_clients "\$\{edge_client_key\}" \$edge_live \{\n {4}5% edge_py3;\n {4}\* edge_main;\n\}/);
            }
        });

        it("the edge spreads each track over every server's listener of that track, with a test route per track", () => {
            const upstreams = String(find(both, "lb1-edge-upstreams").inputs.stdin);
            assert.match(upstreams, /upstream edge_main \{\n {4}server 10\.0\.0\.11:8080 [^\n]*\n {4}server 10\.0\.0\.12:8080 [^\n]*\n {4}server 10\.0\.0\.13:8080 /);
            assert.match(upstreams, /upstream edge_py3 \{\n {4}server 10\.0\.0\.11:8180 [^\n]*\n {4}server 10\.0\.0\.12:8180 [^\n]*\n {4}server 10\.0\.0\.13:8180 /);
            const site = String(find(both, "lb1-edge-site").inputs.stdin);
            assert.match(site, /listen 0\.0\.0\.0:8090;\n {4}location \/ \{\n {8}proxy_pass http:\/\/edge_main;/);
            assert.match(site, /listen 0\.0\.0\.0:8091;\n {4}location \/ \{\n {8}proxy_pass http:\/\/edge_py3;/);
        });

        it("retiring a track unprotects its containers and drops it from the edge, touching nothing else", async () => {
            const retired = await evaluate(withTracks(base, [{ ...PY3_TRACK, retired: true }], { ...EDGE, split: undefined, trackPorts: { main: 8090 } }), SECRETS);
            for (const s of SERVERS) {
                assert.equal(find(both, `${s}-red-container`).protect, true);
                assert.equal(find(retired, `${s}-red-container`).protect, false);
            }
            const d = diff(both, retired);
            assert.deepEqual(d.changed, ["lb1-edge-route", "lb1-edge-site", "lb1-edge-upstreams"]);
            assert.doesNotMatch(String(find(retired, "lb1-edge-upstreams").inputs.stdin), /edge_py3/);
            // Then removing it from the config deletes its resources and nothing else.
            const removed = await evaluate(withTracks(base, [], { ...EDGE, split: undefined, trackPorts: { main: 8090 } }), SECRETS);
            const r = diff(retired, removed);
            assert.deepEqual(r.added, []);
            assert.deepEqual(r.changed, []);
            for (const name of r.removed) assert.match(name, /py3|red/);
            assert.ok(r.removed.includes("web1-red-container"));
        });
    });
}
