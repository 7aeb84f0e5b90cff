// Renders the "lua" switching mode (libnginx-mod-http-lua, LuaJIT): the same routing-state
// files as the state mode (lib/nginx/stateRoutes.ts, written by switch-state.sh), but nginx holds
// the routes in a shared dictionary and re-reads a file only when switch-lua.sh asks it to
// over a control socket. The per-request cost is one dictionary lookup (no file read, no
// JSON parse, no njs VM): see the README's measurements.
//
// Unlike njs's js_set, set_by_lua is not allowed at the http level, so each listener sets
// its own variable: `set_by_lua_block $portal_live { ... }` (renderListener does it).

export const LUA_ROUTER_MODULE = "portal_router";
export const LUA_ROUTER_SCRIPT = `${LUA_ROUTER_MODULE}.lua`;
/** The control socket nginx listens on, in the nginx directory. */
export const CONTROL_SOCKET = "router.sock";
/** The shared dictionary's size: a route is one short line; 1 MiB holds thousands. */
const DICT = "portal_routes 1m";

// Unix socket paths are limited by sun_path (108 bytes on Linux, with the NUL).
export const MAX_SOCKET_PATH = 107;

export function controlSocket(confDir: string): string {
    return `${confDir}/${CONTROL_SOCKET}`;
}

/** router.conf in lua mode: the module path, the dictionary, and the control listener. */
export function renderLuaRouterConf(confDir: string, scriptsDir: string, routerSha256?: string): string {
    const socket = controlSocket(confDir);
    if (socket.length > MAX_SOCKET_PATH) throw new Error(`control socket path ${socket} is longer than ${MAX_SOCKET_PATH} bytes`);
    return (
        "# Managed by Pulumi (project portal): reload-free routing through the LuaJIT router.\n" +
        // The router's hash: a new portal_router.lua changes this file, so its publish step runs
        // again and reloads nginx, which loads the new module.
        (routerSha256 ? `# ${LUA_ROUTER_SCRIPT} sha256 ${routerSha256}\n` : "") +
        `lua_package_path "${scriptsDir}/?.lua;;";\n` +
        `lua_shared_dict ${DICT};\n` +
        `init_by_lua_block { require("${LUA_ROUTER_MODULE}").init("${confDir}") }\n` +
        `init_worker_by_lua_block { require("${LUA_ROUTER_MODULE}").seed() }\n` +
        "server {\n" +
        `    listen unix:${socket};\n` +
        "    access_log off;\n" +
        `    location = /sync { content_by_lua_block { require("${LUA_ROUTER_MODULE}").sync() } }\n` +
        "    location / { return 404; }\n" +
        "}\n"
    );
}

/** The state key a listener reads: live, passive, py3-live, edge-live. */
export function routeKey(track: string | undefined, name: "live" | "passive"): string {
    return track ? `${track}-${name}` : name;
}

/** The line a listener needs in lua mode: sets `variable` (e.g. $portal_live) to the route's upstream. */
export function luaRouteLine(variable: string, key: string, upstreamPrefix: string): string {
    return `set_by_lua_block ${variable} { return require("${LUA_ROUTER_MODULE}").route("${key}", "${upstreamPrefix}_") }`;
}
