// The rollout plan of a validated config (no Pulumi here): per host, in order,
//   first:   preflight (every host's gates every host's first change), setup, scripts, pulls
//   prepare: migrations on the primary (after every server's pull), compose file, env files,
//            containers, health waits, static nginx files, passive switch, prepared notice
//   deploy:  live re-check, compose symlink, live switch, live-color record, workers,
//            prune, live notice; then the edge's split, after every server's live record
// Each step re-runs exactly when its command line, stdin or triggers change, so a tag change
// touches the prepare steps only and a live-color change the deploy steps only.

import * as fs from "node:fs";
import * as path from "node:path";
import * as cmd from "../server/commands";
import type { Color, PortalConfig, ServerConfig } from "../config/config";
import { colorContainer, containerName, dockerLabels, envFile, workerContainer } from "../model/containers";
import {
    colorRepository,
    colorRuns,
    liveNotice,
    liveRoute,
    migrationRuns,
    passiveRoute,
    preparedNotice,
    stageOf,
    withSalt,
    workerRuns,
    type Stage,
} from "../model/rollout";
import { namesOf, tracksOf, type Track } from "../model/tracks";
import { EDGE, EDGE_SCOPE, edgeRoute, renderEdgeSite, renderEdgeUpstreams } from "../nginx/edgeRoutes";
import { publishStaticFile, routeMode, type RouteFile, type RouteMode } from "../nginx/routeModes";
import { renderCompose } from "../server/compose";
import { ShellCommand } from "../server/shell";
import { dockerSshOpts } from "../server/sshOptions";
import { PROJECT } from "../model/project";
import { containerPolicy } from "./containerPolicy";
import { argvWith, type CommandStep, type ComponentKind, type PlannedComponent, type PlannedHost, type RolloutPlan, type SaltedRoute, type ServerOutputs, type Step, type Text } from "./plan";

/** Seconds the deploy-time re-check of the live color may take: it already passed its health wait. */
export const RECHECK_SECONDS = 30;

/** Grace period of the `local` target's nginx container. */
const LOCAL_NGINX_GRACE_SECONDS = 10;

/** The preflight's stdin: the script itself, so it runs before anything is uploaded. */
const PREFLIGHT_SCRIPT = fs.readFileSync(path.join(__dirname, "..", "..", "scripts", "preflight.sh"), "utf8");

export interface PlanOptions {
    /** The stack's name (it is in every notice). */
    stack: string;
    /** Whether portal:slackWebhook is set: the notices are steps only then. */
    notices: boolean;
    /** The Portal component's name; default the project's. */
    name?: string;
    /** Seconds the deploy-time re-check of the live color may take; default RECHECK_SECONDS (the drills shorten it). */
    recheckSeconds?: number;
}

export interface PlannedTrack {
    name: string;
    main: boolean;
    stage: Stage;
    servers: Record<string, ServerOutputs>;
}

export interface PortalPlan extends RolloutPlan {
    /** Per track, what each server serves once the plan is applied. */
    tracks: PlannedTrack[];
}

/** Collects components and steps in declaration order; a step may wait only for steps already planned. */
class PlanBuilder {
    readonly components: PlannedComponent[] = [];
    readonly steps: Step[] = [];
    private readonly ids = new Set<string>();

    component(kind: ComponentKind, id: string, parent: string | undefined): PlannedComponent {
        const c: PlannedComponent = { id, kind, ...(parent === undefined ? {} : { parent }), outputs: {} };
        this.components.push(c);
        return c;
    }

    add<S extends Step>(step: S): S {
        if (this.ids.has(step.id)) throw new Error(`the plan has two steps named ${step.id}`);
        for (const id of step.waitsFor) if (!this.ids.has(id)) throw new Error(`step ${step.id} waits for ${id}, which is not planned before it`);
        this.ids.add(step.id);
        this.steps.push(step);
        return step;
    }
}

interface HostPlan {
    name: string;
    home: string;
    /** The scripts upload: every command after it waits for it. */
    scripts: string;
    /** A server's Docker provider step (an edge host has none). */
    provider?: string;
    builder: PlanBuilder;
}

/** A command on a host, named `<host>-<suffix>`, after the scripts upload and `waitsFor`. */
function hostStep(host: HostPlan, suffix: string, parent: string, waitsFor: readonly string[], args: Omit<CommandStep, "kind" | "id" | "host" | "parent" | "waitsFor">): CommandStep {
    return host.builder.add({ kind: "command", id: `${host.name}-${suffix}`, host: host.name, parent, waitsFor: [host.scripts, ...waitsFor], ...args });
}

/** Static nginx files one after the other (each is tested with the previous in place); returns the last one's id. */
function staticFileSteps(config: PortalConfig, host: HostPlan, files: RouteFile[], parent: string, after: readonly string[]): string {
    if (files.length === 0) throw new Error(`${host.name}: no static nginx file to publish`);
    let ready = [...after];
    for (const { file, content } of files) {
        ready = [hostStep(host, file.replace(/\.conf$/, ""), parent, ready, { argv: publishStaticFile(config, host.home, file).argv, stdin: content, publishes: `${config.nginx.confDir}/${file}` }).id];
    }
    return ready[0]!;
}

/** A live or passive route file published by the mode's command. */
function routeStep(config: PortalConfig, mode: RouteMode, host: HostPlan, suffix: string, parent: string, file: string, content: Text, after: readonly string[]): CommandStep {
    return hostStep(host, suffix, parent, after, { argv: mode.publishRoute(config, host.home, file).argv, stdin: content, publishes: `${config.nginx.confDir}/${file}` });
}

/** A host's checks (none on the local target): read-only, before anything is changed on any host. */
function preflightStep(b: PlanBuilder, config: PortalConfig, name: string, dir: string, docker: boolean): string | undefined {
    if (config.target === "local") return undefined;
    const checks = cmd.preflight({
        dirs: [dir],
        confDir: config.nginx.confDir,
        nginxRoot: config.nginx.configRoot,
        mode: config.nginx.mode,
        test: config.nginx.test,
        reload: config.nginx.reload,
        minFreeMb: config.preflight.minFreeMb,
        docker,
    });
    // Keyed on its checks and on the script (its stdin): not on every rollout step, which
    // would put it in every preview.
    return b.add({ kind: "command", id: `${name}-preflight`, host: name, parent: name, waitsFor: [], argv: checks.argv, stdin: PREFLIGHT_SCRIPT }).id;
}

/** The host's directories and uploaded scripts, after every host's preflight. */
function beginHost(b: PlanBuilder, config: PortalConfig, name: string, home: string, gate: readonly string[], provider?: string): HostPlan {
    const setup = b.add({ kind: "command", id: `${name}-setup`, host: name, parent: name, waitsFor: gate, argv: cmd.prepareHost(home, config.nginx.confDir).argv });
    const id = `${name}-scripts`;
    if (config.target === "local") {
        b.add({ kind: "command", id, host: name, parent: name, waitsFor: [setup.id], argv: new ShellCommand(["cp", "-R", "scripts", `${home}/`]).argv, triggers: [{ ref: "scripts" }] });
    } else {
        b.add({ kind: "upload", id, host: name, parent: name, waitsFor: [setup.id], remotePath: home });
    }
    return { name, home, scripts: id, provider, builder: b };
}

/** Each server's pull of every color's image, over all tracks (colors are unique across tracks). */
function pullSteps(b: PlanBuilder, config: PortalConfig, host: HostPlan, tracks: Track[], gate: readonly string[]): Map<Color, string> {
    const images = new Map<Color, string>();
    for (const track of tracks) {
        for (const run of colorRuns(config, track)) {
            // A mutable tag is pulled by a command (the provider pulls only what the engine
            // lacks; cited in components/declare.ts); the image resource is replaced after it.
            const pull = run.pull === undefined ? undefined : hostStep(host, `${run.color}-pull`, host.name, gate, { argv: cmd.pullImage(run.image).argv, triggers: [run.pull] }).id;
            // keepLocally: two colors may run the same tag, so deleting one color's image
            // resource must never remove an image the other color's container uses.
            images.set(
                run.color,
                b.add({
                    kind: "image",
                    id: `${host.name}-${run.color}-image`,
                    host: host.name,
                    provider: host.provider!,
                    parent: host.name,
                    waitsFor: pull === undefined ? gate : [pull],
                    image: run.image,
                    ...(run.pull === undefined ? {} : { pullTriggers: [run.pull] }),
                }).id,
            );
        }
    }
    return images;
}

interface TrackOnServer {
    outputs: ServerOutputs;
    passiveSwitched: string;
    liveRecorded: string;
    liveDone: string[];
    lastStaticFile: string;
}

/** One track's release on one server: prepare, then deploy. */
function trackOnServer(
    config: PortalConfig,
    server: ServerConfig,
    host: HostPlan,
    track: Track,
    ctx: { stamp: string; salt?: string; migrations: Map<Color, string>; images: Map<Color, string>; mainStaticFile?: string; recheckSeconds: number },
): TrackOnServer {
    const b = host.builder;
    const mode = routeMode(config.nginx.mode);
    const { release } = track;
    const scoped = (suffix: string) => namesOf(track).scoped(suffix);
    const srv = host.name;
    // The main track's directory is made with the scripts; another track's here.
    const after = track.main ? [] : [hostStep(host, scoped("setup"), srv, [], { argv: cmd.prepareHost(track.dir, config.nginx.confDir).argv }).id];

    const compose = hostStep(host, scoped("compose"), srv, after, {
        argv: argvWith((stamp) => cmd.writeCompose(host.home, track.dir, stamp), { ref: "stdout", step: ctx.stamp, trim: true }),
        stdin: renderCompose(config, server, track),
    });

    const healthy = new Map<Color, string>();
    for (const run of colorRuns(config, track)) {
        // The env the color runs with, for `docker-compose up` by hand (secrets stay on the server, 0600).
        hostStep(host, `${run.color}-env`, srv, after, { argv: cmd.writeEnv(host.home, envFile(track.dir, run.color)).argv, stdin: { ref: "envFile", color: run.color } });
        const deployment = b.component("ColorDeployment", `${srv}-${run.color}`, srv);
        const spec = colorContainer(config, track, run);
        const migration = ctx.migrations.get(run.color);
        const container = b.add({
            kind: "container",
            id: `${deployment.id}-container`,
            host: srv,
            provider: host.provider!,
            parent: deployment.id,
            waitsFor: migration ? [migration] : [],
            inputs: { name: spec.name, restart: spec.restart, ports: spec.ports, labels: dockerLabels(spec), ...containerPolicy(config.app.stopGraceSeconds) },
            image: { ref: "imageId", step: ctx.images.get(run.color)! },
            envs: { ref: "envLines", color: run.color },
            protect: run.protect,
        });
        const url = `http://127.0.0.1:${run.hostPort}${config.app.healthPath}`;
        const wait = hostStep(host, `${run.color}-healthy`, deployment.id, [container.id], {
            argv: cmd.waitHealthy(host.home, url, config.app.healthTimeoutSeconds).argv,
            triggers: [{ ref: "containerId", step: container.id }],
        });
        healthy.set(run.color, wait.id);
        deployment.outputs = { container: spec.name, healthy: { ref: "stdout", step: wait.id } };
    }

    // nginx: the static files (upstreams, router, listeners), then the passive switch.
    const routing = b.component("Routing", `${srv}-${scoped("routing")}`, srv);
    const ready = ctx.mainStaticFile ? [ctx.mainStaticFile] : [];
    if (mode.initRoutes) {
        const init = mode.initRoutes(host.home, config.nginx.confDir, track.main ? undefined : track.name);
        ready.push(hostStep(host, scoped("routes-init"), routing.id, [...ready], { argv: init.argv }).id);
    }
    if (config.target === "local" && track.main) ready.push(localNginx(config, host, routing.id, [...ready]));
    const lastStatic = staticFileSteps(config, host, mode.staticFiles(config, track), routing.id, ready);
    const passive = passiveRoute(config, track);
    const passiveFile = mode.passive(passive, track);
    const passiveSwitch = routeStep(config, mode, host, scoped("route-passive"), routing.id, passiveFile.file, passiveFile.content, [lastStatic, healthy.get(passive.color)!]);
    routing.outputs = { passive: { ref: "stdout", step: passiveSwitch.id } };

    // Deploy: every step keyed on the live color and tag, so prepare leaves them all unchanged.
    const live = liveRoute(config, track);
    const liveHealthy = [healthy.get(live.color)!, ...(live.canary ? [healthy.get(live.canary.color)!, passiveSwitch.id] : [])];
    const liveTag = release.tags[live.color];
    const keyedOnLive = [live.color, liveTag];
    const promotion = b.component("Promotion", `${srv}-${scoped("promotion")}`, srv);
    const releaseFiles = [lastStatic, compose.id];
    const recheck = hostStep(host, scoped("live-healthy"), promotion.id, liveHealthy, {
        argv: cmd.waitHealthy(host.home, `http://127.0.0.1:${track.hostPorts[live.color]}${config.app.healthPath}`, ctx.recheckSeconds).argv,
        triggers: keyedOnLive,
    });
    const symlink = hostStep(host, scoped("compose-symlink"), promotion.id, [recheck.id, ...releaseFiles], { argv: cmd.promoteCompose(host.home, track.dir).argv, triggers: keyedOnLive });
    const liveFile = mode.live(live, track);
    const salted = ctx.salt !== undefined && live.canary?.mode === "sticky";
    const liveSwitch = routeStep(config, mode, host, scoped("route-live"), promotion.id, liveFile.file, salted ? { salted: { salt: ctx.salt!, route: live, scope: track } } : liveFile.content, [
        recheck.id,
        symlink.id,
        ...releaseFiles,
        ...liveHealthy,
    ]);
    const recorded = hostStep(host, scoped("record-live"), promotion.id, [liveSwitch.id], { argv: cmd.recordLive(host.home, track.dir, live.color, liveTag).argv });
    promotion.outputs = { recorded: { ref: "stdout", step: recorded.id } };

    // Workers run the main track's live tag, recreated once the live switch is recorded.
    const workers: string[] = [];
    if (track.main) {
        const group = b.component("Workers", `${srv}-workers`, srv);
        for (const run of workerRuns(config, server)) {
            const spec = workerContainer(config, track, run.role, run.tag);
            workers.push(
                b.add({
                    kind: "container",
                    id: `${srv}-${run.role}`,
                    host: srv,
                    provider: host.provider!,
                    parent: group.id,
                    waitsFor: [recorded.id],
                    inputs: { name: spec.name, command: spec.command, restart: spec.restart, labels: dockerLabels(spec), ...containerPolicy(run.stopGraceSeconds) },
                    image: { ref: "imageId", step: ctx.images.get(live.color)! },
                    envs: { ref: "envLines", color: live.color },
                }).id,
            );
        }
        group.outputs = { workers: workerRuns(config, server).map((run) => workerContainer(config, track, run.role, run.tag).name) };
    }

    // After the deploy, old release files and images go; keyed like the deploy steps, so it
    // runs once per deploy or rollback. The repositories are stdin, not a trigger: a new one
    // is stored by the no-op update and used at the next deploy, never run at prepare.
    const repositories = [...new Set([track.image, ...track.colors.map((c) => colorRepository(track, c))])];
    hostStep(host, scoped("prune"), srv, [recorded.id, ...workers], {
        argv: cmd.prune(host.home, track.dir, config.prune.keep).argv,
        stdin: cmd.pruneRepositories(repositories),
        rerunOnStdin: false,
        triggers: keyedOnLive,
    });

    const outputs: ServerOutputs = {
        live: live.color,
        passive: passive.color,
        liveTag,
        passiveTag: release.tags[passive.color],
        liveColorFile: cmd.liveColorFile(track.dir),
    };
    return { outputs, passiveSwitched: passiveSwitch.id, liveRecorded: recorded.id, liveDone: [recorded.id, ...workers], lastStaticFile: lastStatic };
}

/**
 * The `local` target's nginx: a container on the host network reading the generated files
 * from confDir, sharing the host's pid namespace and writing its pid file and error log into
 * host directories, so switch-route.sh watches its master and workers as on a server.
 */
function localNginx(config: PortalConfig, host: HostPlan, parent: string, after: readonly string[]): string {
    const { nginx } = config;
    const hostDir = (file: string) => file.slice(0, file.lastIndexOf("/"));
    const image = host.builder.add({ kind: "image", id: `${host.name}-nginx-image`, host: host.name, provider: host.provider!, parent, waitsFor: [], image: nginx.image });
    return host.builder.add({
        kind: "container",
        id: `${host.name}-nginx`,
        host: host.name,
        provider: host.provider!,
        parent,
        waitsFor: after,
        inputs: {
            name: containerName("nginx"),
            networkMode: "host",
            pidMode: "host",
            restart: "unless-stopped",
            volumes: [
                { hostPath: nginx.confDir, containerPath: "/etc/nginx/conf.d", readOnly: true },
                // The image's nginx.conf: `pid /var/run/nginx.pid;`, `error_log /var/log/nginx/error.log`.
                { hostPath: hostDir(nginx.pidFile), containerPath: "/var/run" },
                { hostPath: hostDir(nginx.errorLog), containerPath: "/var/log/nginx" },
            ],
            // nginx finishes its open requests on SIGQUIT within a few seconds.
            ...containerPolicy(LOCAL_NGINX_GRACE_SECONDS),
        },
        image: { ref: "imageId", step: image.id },
    }).id;
}

/** The whole stack's plan: every server and edge host, every track, the migrations, stamps, salts and notices. */
export function planRollout(config: PortalConfig, opts: PlanOptions): PortalPlan {
    const name = opts.name ?? PROJECT;
    const b = new PlanBuilder();
    const tracks = tracksOf(config);
    b.component("Portal", name, undefined);

    // Every host and its preflight first: every host's first change waits for all of them.
    const servers = config.servers.map((server) => {
        const component = b.component("Server", server.name, name);
        const provider = b.add({
            kind: "dockerProvider",
            id: `${server.name}-docker`,
            host: server.name,
            parent: server.name,
            waitsFor: [],
            ...(config.target === "local"
                ? { address: "unix:///var/run/docker.sock" }
                : { address: `ssh://${config.ssh.user}@${server.host}:${config.ssh.port}`, sshOpts: dockerSshOpts(server.hostKey) }),
            ...(config.registry ? { registry: { address: config.registry.server, username: config.registry.username } } : {}),
        });
        return { server, component, provider: provider.id, preflight: preflightStep(b, config, server.name, config.dir, true) };
    });
    const edge = config.edge;
    const edges = (edge?.hosts ?? []).map((host) => {
        const component = b.component("Edge", host.name, name);
        return { host, component, preflight: preflightStep(b, config, host.name, edge!.dir, false) };
    });
    const gate = [...servers, ...edges].flatMap((h) => (h.preflight ? [h.preflight] : []));

    const hosts = servers.map(({ server, component, provider }) => {
        const host = beginHost(b, config, server.name, config.dir, gate, provider);
        return { server, component, host, images: pullSteps(b, config, host, tracks, gate) };
    });
    const primary = hosts.find((h) => h.server.primary)!;
    const liveRecords: Record<string, string[]> = {};
    const mainStaticFiles = new Map<string, string>();
    const trackPlans: PlannedTrack[] = [];

    for (const track of tracks) {
        const { release } = track;
        // Recorded once per release: the step runs again only when one of the track's tags changes.
        const stamp = b.add({ kind: "local", id: `${name}-${namesOf(track).scoped("release-stamp")}`, parent: name, waitsFor: [], argv: cmd.releaseStamp().argv, triggers: track.colors.map((c) => release.tags[c] ?? "") });
        // Sticky canaries: one salt per release of the track (the passive color and its tag),
        // so each release draws its own cohort of clients.
        const salt =
            config.nginx.canary.mode === "sticky"
                ? b.add({ kind: "salt", id: `${name}-${namesOf(track).scoped("canary-salt")}`, parent: name, waitsFor: [], byteLength: 8, keepers: { color: release.passive, tag: release.tags[release.passive] ?? "" } }).id
                : undefined;

        // On the primary, after every server's pull of the image; the live color's first, so a
        // fresh stack migrates in release order. A color's containers wait for its migration.
        const migrations = new Map<Color, string>();
        const runs = migrationRuns(config, track).sort((a, c) => Number(c.color === release.live) - Number(a.color === release.live));
        for (const run of runs) {
            const component = b.component("Migration", `${primary.host.name}-${run.color}-migration`, primary.host.name);
            const step = hostStep(primary.host, `${run.color}-migrate`, component.id, [...hosts.map((h) => h.images.get(run.color)!), ...migrations.values()], {
                // Keyed on the image (repository and tag) and the migrate argv in the command line,
                // and on the color's env (stdin): a color's env changes only when it is prepared again.
                argv: cmd.runMigrations(primary.host.home, containerName(`migrate-${run.color}`), run.image, run.args).argv,
                stdin: { ref: "envFile", color: run.color },
                // A mutable tag's command line stays the same when its image is pulled again.
                ...(run.pull === undefined ? {} : { triggers: [run.pull] }),
                // The app's own output: shown only in the error when it fails.
                logging: "none",
            });
            component.outputs = { stdout: { ref: "stdout", step: step.id } };
            migrations.set(run.color, step.id);
        }

        const onServers = hosts.map(({ server, host, images }) => {
            const done = trackOnServer(config, server, host, track, { stamp: stamp.id, salt, migrations, images, mainStaticFile: mainStaticFiles.get(server.name), recheckSeconds: opts.recheckSeconds ?? RECHECK_SECONDS });
            if (track.main) mainStaticFiles.set(server.name, done.lastStaticFile);
            return done;
        });
        liveRecords[track.name] = onServers.map((d) => d.liveRecorded);

        if (opts.notices) {
            // One notice per stage and track, after that stage's step on every server.
            const names = hosts.map((h) => h.host.name);
            const prepared = preparedNotice(opts.stack, release, names, track);
            if (prepared !== undefined) {
                b.add({ kind: "notice", id: `${name}-${namesOf(track).scoped("notify-prepared")}`, parent: name, waitsFor: onServers.map((d) => d.passiveSwitched), message: prepared });
            }
            b.add({ kind: "notice", id: `${name}-${namesOf(track).scoped("notify-live")}`, parent: name, waitsFor: onServers.flatMap((d) => d.liveDone), message: liveNotice(opts.stack, release, names, track) });
        }
        trackPlans.push({ name: track.name, main: track.main, stage: stageOf(release), servers: Object.fromEntries(hosts.map((h, i) => [h.host.name, onServers[i].outputs])) });
    }
    const main = trackPlans.find((t) => t.main)!;
    for (const { server, component } of hosts) component.outputs = { ...main.servers[server.name] };

    // The edge routes to a track only once every server has recorded its live switch.
    const edgeHosts = edges.map(({ host, component }) => ({ host, component, plan: beginHost(b, config, host.name, edge!.dir, gate) }));
    const splits = edgeHosts.map(({ component, plan: h }) => {
        const mode = routeMode(config.nginx.mode);
        const ready = mode.initRoutes ? [hostStep(h, `${EDGE}-routes-init`, h.name, [], { argv: mode.initRoutes(h.home, config.nginx.confDir, EDGE).argv }).id] : [];
        const files: RouteFile[] = [
            { file: `${EDGE}-upstreams.conf`, content: renderEdgeUpstreams(config, tracks) },
            ...(mode.router ? [mode.router(config, h.home)] : []),
            { file: `${EDGE}-site.conf`, content: renderEdgeSite(edge!, mode) },
        ];
        const lastStatic = staticFileSteps(config, h, files, h.name, ready);
        const route = edgeRoute(config, edge!);
        const routed = [route.color, ...(route.canary ? [route.canary.color] : [])];
        const file = mode.live(route, EDGE_SCOPE);
        const split = routeStep(config, mode, h, `${EDGE}-route`, h.name, file.file, file.content, [lastStatic, ...routed.flatMap((t) => liveRecords[t] ?? [])]);
        component.outputs = { split: { ref: "stdout", step: split.id } };
        return split.id;
    });

    const hostList: PlannedHost[] = [
        ...hosts.map(({ server, host }) => ({ name: server.name, role: "server" as const, address: server.host, ...(server.hostKey ? { hostKey: server.hostKey } : {}), scripts: host.scripts })),
        ...edgeHosts.map(({ host, plan }) => ({ name: host.name, role: "edge" as const, address: host.host, ...(host.hostKey ? { hostKey: host.hostKey } : {}), scripts: plan.scripts })),
    ];
    return { components: b.components, steps: b.steps, hosts: hostList, routed: [...Object.values(liveRecords).flat(), ...splits], tracks: trackPlans };
}

/** A salted live route's file content once the engine has drawn the salt. */
export function saltedRouteContent(config: PortalConfig, salted: SaltedRoute["salted"], salt: string): string {
    return routeMode(config.nginx.mode).live(withSalt(salted.route, salt), salted.scope).content;
}
