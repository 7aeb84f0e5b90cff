// One drill server driven exactly as the program drives a server: the commands come from
// lib/server/commands.ts (same argv), the routing files from lib/nginx/routeModes.ts (same renderers,
// same publish command per mode), the release walk from lib/release/releaseTransitions.ts. The
// scripts are copied to <dir>/scripts as the program uploads them, and run from there.

import * as fs from "node:fs";
import * as path from "node:path";
import * as cmd from "../lib/server/commands";
import { tracksOf, type Track } from "../lib/model/tracks";
import { renderCompose } from "../lib/server/compose";
import { containerName } from "../lib/model/containers";
import { validateConfig, type Color, type NginxControl, type PortalConfig, type ReleaseConfig } from "../lib/config/config";
import { publishStaticFile, routeMode, type RouteModeName } from "../lib/nginx/routeModes";
import { liveRoute, passiveRoute } from "../lib/model/rollout";
import type { ShellCommand } from "../lib/server/shell";
import type { SwitchTimer } from "./switchTimer";
import { HEALTH_PATH, APP_PORT } from "./colorContainers";
import { TEST_IMAGE } from "./docker";
import { envWithoutProxy, makeTempDir, removeTempDir, REPO_ROOT, run, SCRIPTS_DIR } from "./run";

export interface StepResult {
    step: string;
    argv: readonly string[];
    code: number | null;
    signal: NodeJS.Signals | null;
    /** Start and end on the drill clock (ms). */
    start: number;
    end: number;
    stdout: string;
    stderr: string;
    /** When the route file was renamed into place (drill clock), for a timed route step. */
    renamed?: number | null;
}

/** Env lines the drills send to run-migrations.sh on stdin. */
export const MIGRATION_ENV = "PORTAL_DRILL=1\n";

export interface RouteStep {
    file: string;
    /** Absolute path of the route file in the conf dir. */
    path: string;
    content: string;
    command: ShellCommand;
}

export interface DrillServerOptions {
    mode: RouteModeName;
    confDir: string;
    /** How the scripts test, reload and watch the drill's nginx. */
    nginx: NginxControl;
    hostPorts: Record<Color, number>;
    site: { live: number; passive: number };
    release: ReleaseConfig;
    /** Migration command run by run-migrations.sh in the test image. */
    migrate: string[];
    /** Clock the step times are reported on (the load's clock). */
    clock: () => number;
    /** Unique prefix for container names. */
    namePrefix: string;
    /** portal:nginx.keepalive (default: the program's). */
    keepalive?: number;
}

export class DrillServer {
    readonly dir: string;
    config: PortalConfig;
    readonly steps: StepResult[] = [];
    clock: () => number;

    constructor(private readonly opts: DrillServerOptions) {
        this.dir = makeTempDir("drill-server");
        this.clock = opts.clock;
        this.config = validateConfig({
            image: "portal-drill",
            release: opts.release,
            servers: [{ name: "drill", host: "127.0.0.1", primary: true }],
            app: {
                port: APP_PORT,
                healthPath: HEALTH_PATH,
                hostPorts: opts.hostPorts,
                migrate: opts.migrate,
                healthTimeoutSeconds: 30,
            },
            nginx: {
                mode: opts.mode,
                confDir: opts.confDir,
                test: opts.nginx.test,
                reload: opts.nginx.reload,
                pidFile: opts.nginx.pidFile,
                errorLog: opts.nginx.errorLog,
                reloadTimeoutSeconds: opts.nginx.reloadTimeoutSeconds,
                canary: { mode: "request" },
                site: { address: "127.0.0.1", live: opts.site.live, passive: opts.site.passive },
                ...(opts.keepalive === undefined ? {} : { keepalive: opts.keepalive }),
            },
            dir: this.dir,
            target: "ssh",
        });
    }

    withRelease(release: ReleaseConfig): PortalConfig {
        return { ...this.config, release };
    }

    /**
     * Runs one ShellCommand as the program would over ssh (argv as built by lib/server/commands.ts).
     * `detached` starts it in its own process group (for drills that SIGKILL the group).
     */
    async exec(step: string, command: ShellCommand, input?: string, opts: { env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Promise<StepResult> {
        const [file, ...args] = command.argv;
        const start = this.clock();
        const r = await run(file, args, { input, env: envWithoutProxy(opts.env), timeoutMs: 120_000, detached: opts.detached });
        const result: StepResult = { step, argv: command.argv, code: r.code, signal: r.signal, start, end: this.clock(), stdout: r.stdout, stderr: r.stderr };
        this.steps.push(result);
        return result;
    }

    async must(step: string, command: ShellCommand, input?: string): Promise<StepResult> {
        const r = await this.exec(step, command, input);
        if (r.code !== 0) {
            throw new Error(`${step} failed (exit ${r.code}): ${command.toString()}\n${r.stdout}${r.stderr}`);
        }
        return r;
    }

    /** The main track (the only one the drill drives). */
    private mainTrack(): Track {
        return tracksOf(this.config)[0];
    }

    /** Server setup: the program's setup step, the scripts upload (cp -R scripts <dir>/), route placeholders, static files. */
    async setup(): Promise<void> {
        const { config } = this;
        await this.must("setup", cmd.prepareHost(config.dir, config.nginx.confDir));
        // PORTAL_DRILL_SCRIPTS: another scripts directory to upload (to check that the drills
        // catch a broken script); the repository's scripts/ by default.
        fs.cpSync(process.env.PORTAL_DRILL_SCRIPTS ?? SCRIPTS_DIR, path.join(config.dir, "scripts"), { recursive: true });
        if (config.nginx.mode === "reload") {
            await this.must("routes-init", cmd.initRoutes(config.dir, config.nginx.confDir));
        }
        for (const { file, content } of routeMode(config.nginx.mode).staticFiles(config, this.mainTrack())) {
            await this.must(`static ${file}`, publishStaticFile(config, config.dir, file), content);
        }
    }

    /** The live route file for `release` (as the mode renders it) and the command that publishes it. */
    liveRoute(release: ReleaseConfig): RouteStep {
        const config = this.withRelease(release);
        const mode = routeMode(config.nginx.mode);
        const route = mode.live(liveRoute(config), this.mainTrack());
        return { ...route, path: path.join(config.nginx.confDir, route.file), command: mode.publishRoute(config, config.dir, route.file) };
    }

    passiveRoute(release: ReleaseConfig): RouteStep {
        const config = this.withRelease(release);
        const mode = routeMode(config.nginx.mode);
        const route = mode.passive(passiveRoute(config), this.mainTrack());
        return { ...route, path: path.join(config.nginx.confDir, route.file), command: mode.publishRoute(config, config.dir, route.file) };
    }

    publishLive(release: ReleaseConfig): Promise<StepResult> {
        const route = this.liveRoute(release);
        return this.must(`route-live ${route.file}`, route.command, route.content);
    }

    /**
     * publishLive through a SwitchTimer (spawned, watched and timed off the caller's event
     * loop): the times on the drill clock, with the rename of the route file.
     */
    async publishLiveTimed(release: ReleaseConfig, timer: SwitchTimer): Promise<StepResult> {
        const route = this.liveRoute(release);
        const step = `route-live ${route.file}`;
        const r = await timer.run(route.command.argv, { input: route.content, env: envWithoutProxy(), cwd: REPO_ROOT, watch: route.path });
        const result: StepResult = { step, argv: route.command.argv, code: r.code, signal: r.signal, start: r.start, end: r.end, renamed: r.renamed, stdout: r.stdout, stderr: r.stderr };
        this.steps.push(result);
        if (r.code !== 0) throw new Error(`${step} failed (exit ${r.code}): ${route.command.toString()}\n${r.stdout}${r.stderr}`);
        return result;
    }

    publishPassive(release: ReleaseConfig): Promise<StepResult> {
        const route = this.passiveRoute(release);
        return this.must(`route-passive ${route.file}`, route.command, route.content);
    }

    /** wait-healthy.sh on the color's host port and health path. */
    waitHealthyCommand(color: Color, timeoutSeconds: number): ShellCommand {
        const url = `http://127.0.0.1:${this.config.app.hostPorts[color]}${this.config.app.healthPath}`;
        return cmd.waitHealthy(this.config.dir, url, timeoutSeconds);
    }

    waitHealthy(color: Color, timeoutSeconds: number): Promise<StepResult> {
        return this.must(`${color}-healthy`, this.waitHealthyCommand(color, timeoutSeconds));
    }

    /** run-migrations.sh with the test image (the program passes the color's image) and app.migrate. */
    migrateCommand(color: Color): ShellCommand {
        const name = `${this.opts.namePrefix}-${containerName(`migrate-${color}`)}`;
        return cmd.runMigrations(this.config.dir, name, TEST_IMAGE, this.config.app.migrate);
    }

    migrate(color: Color): Promise<StepResult> {
        return this.must(`${color}-migrate`, this.migrateCommand(color), MIGRATION_ENV);
    }

    writeCompose(release: ReleaseConfig, stamp: string): Promise<StepResult> {
        const config = this.withRelease(release);
        return this.must("compose", cmd.writeCompose(config.dir, config.dir, stamp), renderCompose(config, config.servers[0]));
    }

    promoteCompose(): Promise<StepResult> {
        return this.must("compose-symlink", cmd.promoteCompose(this.config.dir, this.config.dir));
    }

    recordLive(release: ReleaseConfig): Promise<StepResult> {
        return this.must("record-live", cmd.recordLive(this.config.dir, this.config.dir, release.live, release.tags[release.live]!));
    }

    liveColorRecorded(): string {
        return fs.readFileSync(cmd.liveColorFile(this.config.dir), "utf8").trim();
    }

    cleanup(): void {
        removeTempDir(this.dir);
    }
}
