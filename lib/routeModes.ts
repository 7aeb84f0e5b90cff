// The two ways a switch reaches nginx. `reload`: the live/passive include files are
// rewritten and nginx is tested and reloaded. `state`: nginx config is static and the
// switch renames a state file that the njs router reads per request. Both keep the diff
// semantics: prepare writes only the passive file, deploy/rollback/canary only the live one.

import * as cmd from "./commands";
import type { PortalConfig } from "./config";
import * as reload from "./nginxRoutes";
import type { LiveRoute, PassiveRoute } from "./rollout";
import type { ShellCommand } from "./shell";
import * as state from "./stateRoutes";

export type RouteModeName = "reload" | "state";

export interface RouteFile {
    file: string;
    content: string;
}

export interface RouteMode {
    /** Files written once per server, each with an nginx test and reload (upstreams, router). */
    staticFiles(config: PortalConfig): RouteFile[];
    live(route: LiveRoute): RouteFile;
    passive(route: PassiveRoute): RouteFile;
    /** The command that publishes a live or passive route file (content on stdin). */
    publishRoute(config: PortalConfig, file: string): ShellCommand;
}

function withNginxTest(config: PortalConfig, file: string): ShellCommand {
    const { dir, nginx } = config;
    return cmd.switchRoute(dir, `${nginx.confDir}/${file}`, nginx.test, nginx.reload);
}

function siteFiles(config: PortalConfig): RouteFile[] {
    return config.nginx.site ? [{ file: reload.SITE_FILE, content: reload.renderSite(config.nginx.site) }] : [];
}

const reloadMode: RouteMode = {
    staticFiles: (config) => [{ file: reload.UPSTREAMS_FILE, content: reload.renderUpstreams(config.app) }, ...siteFiles(config)],
    live: (route) => ({ file: reload.LIVE_FILE, content: reload.renderLiveRoute(route) }),
    passive: (route) => ({ file: reload.PASSIVE_FILE, content: reload.renderPassiveRoute(route) }),
    publishRoute: withNginxTest,
};

const stateMode: RouteMode = {
    staticFiles: (config) => [
        { file: reload.UPSTREAMS_FILE, content: reload.renderUpstreams(config.app) },
        { file: state.ROUTER_FILE, content: state.renderRouterConf(config.nginx.confDir, cmd.scriptsDir(config.dir)) },
        ...siteFiles(config),
    ],
    live: (route) => ({ file: state.LIVE_STATE_FILE, content: state.renderLiveState(route) }),
    passive: (route) => ({ file: state.PASSIVE_STATE_FILE, content: state.renderPassiveState(route) }),
    publishRoute: (config, file) => cmd.switchState(config.dir, `${config.nginx.confDir}/${file}`),
};

export function routeMode(name: RouteModeName): RouteMode {
    return name === "state" ? stateMode : reloadMode;
}

export { withNginxTest as publishStaticFile };
