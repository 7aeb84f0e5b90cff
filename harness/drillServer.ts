// One drill server driven exactly as the program drives a server: every command and its
// stdin is a step of the program's own rollout plan (lib/plan/rollout.ts), taken by its id
// for the release at hand and run as the program runs it over ssh. The scripts are copied to
// <dir>/scripts as the plan's upload step puts them, and run from there.

import * as fs from "node:fs";
import * as path from "node:path";
import * as cmd from "../lib/server/commands";
import { validateConfig, type Color, type NginxControl, type PortalConfig, type ReleaseConfig } from "../lib/config/config";
import type { RouteModeName } from "../lib/nginx/routeModes";
import { colorRuns } from "../lib/model/rollout";
import { stepOf } from "../lib/plan/plan";
import { planRollout, type PortalPlan } from "../lib/plan/rollout";
import type { ShellCommand } from "../lib/server/shell";
import { plannedCommand, stepsBefore, type PlannedCommand } from "./planned";
import type { SwitchTimer } from "./switchTimer";
import { HEALTH_PATH, APP_PORT } from "./colorContainers";
import { docker, TEST_IMAGE } from "./docker";
import { envWithoutProxy, makeTempDir, removeTempDir, REPO_ROOT, runCommand, SCRIPTS_DIR } from "./run";

/** The drill's one server: its steps are `drill-<suffix>`. */
export const DRILL_HOST = "drill";

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
    /** portal:nginx.keepalive (default: the program's). */
    keepalive?: number;
    /** portal:app.healthTimeoutSeconds (default 30). */
    healthTimeoutSeconds?: number;
    /** The deploy-time re-check's seconds (default: the program's). */
    recheckSeconds?: number;
}

/** The drill's image repository: the test image is tagged with each release tag a migration runs. */
const DRILL_IMAGE = "portal-drill";

export class DrillServer {
    readonly dir: string;
    config: PortalConfig;
    readonly steps: StepResult[] = [];
    clock: () => number;

    constructor(private readonly opts: DrillServerOptions) {
        this.dir = makeTempDir("drill-server");
        this.clock = opts.clock;
        this.config = validateConfig({
            image: DRILL_IMAGE,
            release: opts.release,
            servers: [{ name: DRILL_HOST, host: "127.0.0.1", primary: true }],
            app: {
                port: APP_PORT,
                healthPath: HEALTH_PATH,
                hostPorts: opts.hostPorts,
                migrate: opts.migrate,
                healthTimeoutSeconds: opts.healthTimeoutSeconds ?? 30,
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
     * Runs one ShellCommand as the program would over ssh (a planned step's command, or a drill's own).
     * `detached` starts it in its own process group (for drills that SIGKILL the group).
     */
    async exec(step: string, command: ShellCommand, input?: string, opts: { env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Promise<StepResult> {
        const start = this.clock();
        const r = await runCommand(command, { input, env: envWithoutProxy(opts.env), timeoutMs: 120_000, detached: opts.detached });
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

    /** The program's plan for this server at `release`. */
    plan(release: ReleaseConfig = this.config.release): PortalPlan {
        return planRollout(this.withRelease(release), { stack: "drill", notices: false, recheckSeconds: this.opts.recheckSeconds });
    }

    /**
     * The plan's command step `drill-<suffix>` at `release`, its Refs filled in as the engine
     * would: the release stamp (given), the color's env file (the drill's env lines).
     */
    planned(release: ReleaseConfig, suffix: string, values: { stamp?: string } = {}, plan = this.plan(release)): PlannedCommand {
        return plannedCommand(this.withRelease(release), stepOf(plan, `${DRILL_HOST}-${suffix}`, "command"), { ...values, envFile: () => MIGRATION_ENV });
    }

    /** Runs a planned step (see `planned`); throws on a non-zero exit. */
    runPlanned(release: ReleaseConfig, suffix: string, values: { stamp?: string } = {}): Promise<StepResult> {
        const p = this.planned(release, suffix, values);
        return this.must(p.id, p.command, p.stdin);
    }

    /**
     * A fresh server's first steps, as planned: directories, the scripts upload (a copy), then
     * the nginx steps before any route (route include placeholders, static files).
     */
    async setup(): Promise<void> {
        const plan = this.plan();
        const setup = this.planned(this.config.release, "setup", {}, plan);
        await this.must(setup.id, setup.command, setup.stdin);
        // PORTAL_DRILL_SCRIPTS: another scripts directory to upload (to check that the drills
        // catch a broken script); the repository's scripts/ by default.
        const upload = stepOf(plan, `${DRILL_HOST}-scripts`, "upload");
        fs.cpSync(process.env.PORTAL_DRILL_SCRIPTS ?? SCRIPTS_DIR, path.join(upload.remotePath, "scripts"), { recursive: true });
        for (const step of stepsBefore(plan, `${DRILL_HOST}-routing`, `${DRILL_HOST}-route-passive`)) {
            const p = plannedCommand(this.config, step);
            await this.must(p.id, p.command, p.stdin);
        }
    }

    private routeStep(release: ReleaseConfig, suffix: string): RouteStep {
        const p = this.planned(release, suffix);
        return { file: path.basename(p.publishes!), path: p.publishes!, content: p.stdin!, command: p.command };
    }

    /** The plan's live route step at `release`: the file, its content and the command that publishes it. */
    liveRoute(release: ReleaseConfig): RouteStep {
        return this.routeStep(release, "route-live");
    }

    passiveRoute(release: ReleaseConfig): RouteStep {
        return this.routeStep(release, "route-passive");
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

    /** The plan's health wait of `color` (app.healthTimeoutSeconds). */
    waitHealthy(color: Color): Promise<StepResult> {
        return this.runPlanned(this.config.release, `${color}-healthy`);
    }

    /**
     * The plan's migration of `color` at `release`. The test image stands for the release's
     * image: it is tagged as the image the step names (no registry here).
     */
    async migrateCommand(color: Color, release: ReleaseConfig = this.config.release): Promise<PlannedCommand> {
        const image = colorRuns(this.withRelease(release)).find((r) => r.color === color)!.image;
        const tagged = await docker(["tag", TEST_IMAGE, image]);
        if (tagged.code !== 0) throw new Error(`docker tag ${TEST_IMAGE} ${image}: ${tagged.stderr}`);
        return this.planned(release, `${color}-migrate`);
    }

    async migrate(color: Color, release: ReleaseConfig = this.config.release): Promise<StepResult> {
        const p = await this.migrateCommand(color, release);
        return this.must(p.id, p.command, p.stdin);
    }

    writeCompose(release: ReleaseConfig, stamp: string): Promise<StepResult> {
        return this.runPlanned(release, "compose", { stamp });
    }

    promoteCompose(release: ReleaseConfig = this.config.release): Promise<StepResult> {
        return this.runPlanned(release, "compose-symlink");
    }

    recordLive(release: ReleaseConfig): Promise<StepResult> {
        return this.runPlanned(release, "record-live");
    }

    liveColorRecorded(): string {
        return fs.readFileSync(cmd.liveColorFile(this.config.dir), "utf8").trim();
    }

    cleanup(): void {
        removeTempDir(this.dir);
    }
}
