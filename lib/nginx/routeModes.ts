// The three ways a switch reaches nginx. `reload`: the live/passive include files are
// rewritten and nginx is tested and reloaded. `state`: nginx config is static and the
// switch renames a state file that the njs router reads per request. `lua`: the same state
// files, held by nginx in a shared dictionary (LuaJIT router) and re-read when the switch
// asks over a control socket. All keep the diff semantics: prepare writes only the passive
// file, deploy/rollback/canary only the live one.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as cmd from "../server/commands";
import type { PortalConfig } from "../config/config";
import * as reload from "./nginxRoutes";
import type { LiveRoute, PassiveRoute } from "../model/rollout";
import type { ShellCommand } from "../server/shell";
import * as lua from "./luaRoutes";
import * as state_ from "./stateRoutes";
import { EDGE } from "./edgeRoutes";
import { namesOf, type RouteScope, type Track } from "../model/tracks";

export type RouteModeName = "reload" | "state" | "lua";

export interface RouteFile {
    file: string;
    content: string;
}

/** A problem a mode finds in a config it would run: the key and what is wrong, for validation. */
export interface ModeProblem {
    key: string;
    message: string;
}

/**
 * Everything the program, the preview, validation and the tests know about a switching
 * mode. A new mode is one more object in ROUTE_MODES: nothing else branches on the name.
 */
export interface RouteMode {
    readonly name: RouteModeName;
    /** The nginx module the mode's router runs in (the preflight and the local target check it); none for reload. */
    readonly module?: "njs" | "lua";
    /**
     * Files written once per server for a track, each with an nginx test and reload: its
     * upstreams and listeners, and (main track, state and lua) the router shared by all tracks.
     */
    staticFiles(config: PortalConfig, track: Track): RouteFile[];
    /** The router file a host loads (state and lua); none in reload mode. */
    router?(config: PortalConfig, home: string): RouteFile;
    /** reload: the step that creates a scope's route include files before nginx first reads them. */
    initRoutes?(home: string, confDir: string, scope?: string): ShellCommand;
    live(route: LiveRoute, scope: RouteScope): RouteFile;
    passive(route: PassiveRoute, scope: RouteScope): RouteFile;
    /** The command that publishes a live or passive route file (content on stdin); `home` holds scripts/. */
    publishRoute(config: PortalConfig, home: string, file: string): ShellCommand;
    /** The edge's public listener, which follows the split ($edge_live). */
    edgeListener(address: string, port: number): string;
    /** A route file read back for the preview: "portal_blue" or "portal_blue, 5% to portal_green (per request)". */
    describeRoute(content: string): string;
    /** What the mode refuses in a config (beyond the shared rules). */
    problems(config: PortalConfig): ModeProblem[];
}

/** Publishes an nginx include file: rename, `nginx -t`, reload, restore on failure. */
export function publishStaticFile(config: PortalConfig, home: string, file: string): ShellCommand {
    return cmd.switchRoute(home, `${config.nginx.confDir}/${file}`, config.nginx);
}

/** The sha256 of a router script the program uploads (scripts/<file> of this checkout). */
export function routerScriptSha256(file: string): string {
    return createHash("sha256").update(fs.readFileSync(path.join(__dirname, "..", "..", "scripts", file))).digest("hex");
}

function upstreams(config: PortalConfig, track: Track): RouteFile {
    const ports = Object.fromEntries(track.colors.map((c) => [c, track.hostPorts[c]]));
    return { file: namesOf(track).scoped(reload.UPSTREAMS_FILE), content: reload.renderUpstreams(config.app, ports, namesOf(track).nginxPrefix, config.nginx.keepalive) };
}

function siteFiles(track: Track, routing: reload.SiteRouting): RouteFile[] {
    return track.site ? [{ file: namesOf(track).scoped(reload.SITE_FILE), content: reload.renderSite(track.site, routing) }] : [];
}

/** A state file (state and lua modes) in words. */
function describeState(content: string): string {
    const state = state_.parseRouteState(content);
    if (!state.canary) return state.upstream;
    const how = state.canary.sticky ? "sticky per client" : "per request";
    return `${state.upstream}, ${state.canary.basisPoints / 100}% to ${state.canary.upstream} (${how})`;
}

/** A reload-mode include file (map or split_clients) in words. */
function describeInclude(content: string): string {
    const fixed = /default (\S+);/.exec(content);
    if (fixed && !content.includes("split_clients")) return fixed[1];
    const share = /^\s+([\d.]+%) (\S+);$/m.exec(content);
    const rest = /^\s+\* (\S+);$/m.exec(content);
    const sticky = /\$\w+_client_key/.test(content) ? "sticky per client" : "per request";
    return `${rest?.[1]}, ${share?.[1]} to ${share?.[2]} (${sticky})`;
}

/** A router mode's static files: the track's upstreams, the host's router (with the main track), the listeners. */
function routedFiles(mode: RouteMode, config: PortalConfig, track: Track, routing: reload.SiteRouting): RouteFile[] {
    return [upstreams(config, track), ...(track.main && mode.router ? [mode.router(config, config.dir)] : []), ...siteFiles(track, routing)];
}

const reloadMode: RouteMode = {
    name: "reload",
    staticFiles: (config, track) => [upstreams(config, track), ...siteFiles(track, { prefix: namesOf(track).nginxPrefix })],
    initRoutes: (home, confDir, scope) => cmd.initRoutes(home, confDir, scope),
    live: (route, track) => ({ file: namesOf(track).scoped(reload.LIVE_FILE), content: reload.renderLiveRoute(route, namesOf(track).nginxPrefix) }),
    passive: (route, track) => ({ file: namesOf(track).scoped(reload.PASSIVE_FILE), content: reload.renderPassiveRoute(route, namesOf(track).nginxPrefix) }),
    publishRoute: publishStaticFile,
    edgeListener: (address, port) => reload.renderListener(address, port, reload.liveVariable(EDGE)),
    describeRoute: describeInclude,
    problems: () => [],
};

const stateMode: RouteMode = {
    name: "state",
    module: "njs",
    // Every listener proxies to $portal_live; the router picks the track's state.
    staticFiles: (config, track) => routedFiles(stateMode, config, track, { prefix: reload.MAIN_PREFIX, stateTrack: track.main ? undefined : track.name }),
    // router.conf names the router script's hash, so a new router changes this file and its
    // publish step reloads nginx (the upload alone reloads nothing).
    router: (config, home) => ({ file: state_.ROUTER_FILE, content: state_.renderRouterConf(config.nginx.confDir, cmd.scriptsDir(home), routerScriptSha256(state_.ROUTER_SCRIPT)) }),
    live: (route, track) => ({ file: namesOf(track).scoped(state_.LIVE_STATE_FILE), content: state_.renderLiveState(route, namesOf(track).nginxPrefix) }),
    passive: (route, track) => ({ file: namesOf(track).scoped(state_.PASSIVE_STATE_FILE), content: state_.renderPassiveState(route, namesOf(track).nginxPrefix) }),
    publishRoute: (config, home, file) => cmd.switchState(home, `${config.nginx.confDir}/${file}`),
    edgeListener: (address, port) => reload.renderListener(address, port, reload.liveVariable(), EDGE),
    describeRoute: describeState,
    problems: () => [],
};

const luaMode: RouteMode = {
    name: "lua",
    module: "lua",
    // Each listener sets its variables from its own track's routes (set_by_lua).
    staticFiles: (config, track) => routedFiles(luaMode, config, track, { prefix: namesOf(track).nginxPrefix, lua: { track: track.main ? undefined : track.name } }),
    router: (config, home) => ({ file: state_.ROUTER_FILE, content: lua.renderLuaRouterConf(config.nginx.confDir, cmd.scriptsDir(home), routerScriptSha256(lua.LUA_ROUTER_SCRIPT)) }),
    // The state mode's files and grammar; only the publishing differs.
    live: stateMode.live,
    passive: stateMode.passive,
    publishRoute: (config, home, file) => cmd.switchLua(home, `${config.nginx.confDir}/${file}`, lua.controlSocket(config.nginx.confDir)),
    edgeListener: (address, port) =>
        reload.renderListener(address, port, reload.liveVariable(EDGE), undefined, lua.luaRouteLine(reload.liveVariable(EDGE), lua.routeKey(EDGE, "live"), EDGE)),
    describeRoute: describeState,
    problems: (config) =>
        lua.controlSocket(config.nginx.confDir).length > lua.MAX_SOCKET_PATH
            ? [{ key: "nginx.confDir", message: `is too long for lua mode's control socket ${lua.controlSocket(config.nginx.confDir)}; allowed: a path of at most ${lua.MAX_SOCKET_PATH - lua.CONTROL_SOCKET.length - 1} characters` }]
            : [],
};

/** Every switching mode, by the name `portal:nginx.mode` takes; validation and the tests read the names from here. */
export const ROUTE_MODES: Readonly<Record<RouteModeName, RouteMode>> = { state: stateMode, reload: reloadMode, lua: luaMode };

/** The mode names, the default first. */
export const ROUTE_MODE_NAMES = Object.keys(ROUTE_MODES) as RouteModeName[];

export function routeMode(name: RouteModeName): RouteMode {
    const mode = ROUTE_MODES[name];
    if (mode === undefined) throw new Error(`unknown switching mode ${JSON.stringify(name)}; known: ${ROUTE_MODE_NAMES.join(", ")}`);
    return mode;
}
