// One drill server driven exactly as the program drives a server: the commands come from
// lib/commands.ts (same argv), the routing files from lib/routeModes.ts (same renderers,
// same publish command per mode), the release walk from lib/releaseTransitions.ts. The
// scripts are copied to <dir>/scripts as the program uploads them, and run from there.

import * as fs from "node:fs";
import * as path from "node:path";
import * as cmd from "../../lib/commands";
import { renderCompose, containerName } from "../../lib/compose";
import { validateConfig, type Color, type PortalConfig, type ReleaseConfig } from "../../lib/config";
import { publishStaticFile, routeMode, type RouteModeName } from "../../lib/routeModes";
import { liveRoute, passiveRoute } from "../../lib/rollout";
import type { ShellCommand } from "../../lib/shell";
import { HEALTH_PATH, APP_PORT } from "../../test/support/colorContainers";
import { TEST_IMAGE } from "../../test/support/docker";
import { envWithoutProxy, makeTempDir, removeTempDir, run, SCRIPTS_DIR } from "../../test/support/run";

export interface StepResult {
    step: string;
    argv: readonly string[];
    code: number | null;
    /** Start and end on the drill clock (ms). */
    start: number;
    end: number;
    stdout: string;
    stderr: string;
}

export interface DrillServerOptions {
    mode: RouteModeName;
    confDir: string;
    testCmd: string;
    reloadCmd: string;
    hostPorts: Record<Color, number>;
    site: { live: number; passive: number };
    release: ReleaseConfig;
    /** Migration command run by run-migrations.sh in the test image. */
    migrate: string[];
    /** Clock the step times are reported on (the load's clock). */
    clock: () => number;
    /** Unique prefix for container names. */
    namePrefix: string;
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
                test: opts.testCmd,
                reload: opts.reloadCmd,
                canary: { mode: "request" },
                site: { address: "127.0.0.1", live: opts.site.live, passive: opts.site.passive },
            },
            dir: this.dir,
            target: "ssh",
        });
    }

    withRelease(release: ReleaseConfig): PortalConfig {
        return { ...this.config, release };
    }

    /** Runs one ShellCommand as the program would over ssh (argv as built by lib/commands.ts). */
    async exec(step: string, command: ShellCommand, input?: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<StepResult> {
        const [file, ...args] = command.argv;
        const start = this.clock();
        const r = await run(file, args, { input, env: envWithoutProxy(extraEnv), timeoutMs: 120_000 });
        const result: StepResult = { step, argv: command.argv, code: r.code, start, end: this.clock(), stdout: r.stdout, stderr: r.stderr };
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

    /** Server setup: the program's setup step, the scripts upload (cp -R scripts <dir>/), route placeholders, static files. */
    async setup(): Promise<void> {
        const { config } = this;
        await this.must("setup", cmd.prepareHost(config.dir, config.nginx.confDir));
        fs.cpSync(SCRIPTS_DIR, path.join(config.dir, "scripts"), { recursive: true });
        if (config.nginx.mode === "reload") {
            await this.must("routes-init", cmd.initRoutes(config.dir, config.nginx.confDir));
        }
        for (const { file, content } of routeMode(config.nginx.mode).staticFiles(config)) {
            await this.must(`static ${file}`, publishStaticFile(config, file), content);
        }
    }

    publishLive(release: ReleaseConfig): Promise<StepResult> {
        const config = this.withRelease(release);
        const mode = routeMode(config.nginx.mode);
        const route = mode.live(liveRoute(config));
        return this.must(`route-live ${route.file}`, mode.publishRoute(config, route.file), route.content);
    }

    publishPassive(release: ReleaseConfig): Promise<StepResult> {
        const config = this.withRelease(release);
        const mode = routeMode(config.nginx.mode);
        const route = mode.passive(passiveRoute(config));
        return this.must(`route-passive ${route.file}`, mode.publishRoute(config, route.file), route.content);
    }

    /** wait-healthy.sh on the color's host port and health path. */
    waitHealthy(color: Color, timeoutSeconds: number): Promise<StepResult> {
        const url = `http://127.0.0.1:${this.config.app.hostPorts[color]}${this.config.app.healthPath}`;
        return this.must(`${color}-healthy`, cmd.waitHealthy(this.config.dir, url, timeoutSeconds));
    }

    /** run-migrations.sh with the test image (the program passes the color's image). */
    migrate(color: Color): Promise<StepResult> {
        const name = `${this.opts.namePrefix}-${containerName(`migrate-${color}`)}`;
        return this.must(`${color}-migrate`, cmd.runMigrations(this.config.dir, name, TEST_IMAGE, this.config.app.migrate), "PORTAL_DRILL=1\n");
    }

    writeCompose(release: ReleaseConfig, stamp: string): Promise<StepResult> {
        const config = this.withRelease(release);
        return this.must("compose", cmd.writeCompose(config.dir, stamp), renderCompose(config, config.servers[0]));
    }

    promoteCompose(): Promise<StepResult> {
        return this.must("compose-symlink", cmd.promoteCompose(this.config.dir));
    }

    recordLive(release: ReleaseConfig): Promise<StepResult> {
        return this.must("record-live", cmd.recordLive(this.config.dir, release.live, release.tags[release.live]!));
    }

    liveColorRecorded(): string {
        return fs.readFileSync(cmd.liveColorFile(this.config.dir), "utf8").trim();
    }

    cleanup(): void {
        removeTempDir(this.dir);
    }
}
