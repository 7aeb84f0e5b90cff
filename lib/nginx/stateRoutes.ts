// Renders the reload-free ("state") routing mode. nginx's config is static: one upstream
// per color (upstreams.conf) and router.conf, which loads the njs router and defines
// $portal_live / $portal_passive from it. The router reads live.state and passive.state
// (small JSON files) on every request, so a switch is an atomic rename of one state file:
// no reload, no worker restart, no reset keep-alive connection.

import type { CanarySplit, LiveRoute, PassiveRoute } from "../model/rollout";
import { MAIN_PREFIX, upstreamName } from "./nginxRoutes";

export const ROUTER_FILE = "router.conf";
export const ROUTER_SCRIPT = "portal-router.js";
export const LIVE_STATE_FILE = "live.state";
export const PASSIVE_STATE_FILE = "passive.state";

/** The canary share in basis points (1 = 0.01%), the router's integer unit. */
export function basisPoints(percent: number): number {
    return Math.round(percent * 100);
}

export interface CanaryState {
    upstream: string;
    basisPoints: number;
    sticky: boolean;
    cookie: string;
    /** Sticky only: the release's salt, hashed before the client key. */
    salt?: string;
}

export interface RouteState {
    upstream: string;
    canary?: CanaryState;
}

function canaryState(canary: CanarySplit, prefix: string): CanaryState {
    const state: CanaryState = { upstream: upstreamName(canary.color, prefix), basisPoints: basisPoints(canary.percent), sticky: canary.mode === "sticky", cookie: canary.cookie };
    if (state.sticky && canary.salt) state.salt = canary.salt;
    return state;
}

/** The upstream names carry the track's prefix; the router only proxies to names with it. */
export function renderLiveState(route: LiveRoute, prefix = MAIN_PREFIX): string {
    const state: RouteState = { upstream: upstreamName(route.color, prefix) };
    if (route.canary) state.canary = canaryState(route.canary, prefix);
    return JSON.stringify(state) + "\n";
}

export function renderPassiveState(route: PassiveRoute, prefix = MAIN_PREFIX): string {
    return JSON.stringify({ upstream: upstreamName(route.color, prefix) } satisfies RouteState) + "\n";
}

/**
 * The grammar of a state file's one line: exactly what the renderers above produce (key
 * order, no spaces). scripts/switch-state.sh refuses anything else with the same regular
 * expression, assembled there from the same three parts (test/scripts/state-grammar.test.ts
 * proves the two texts equal); the routers parse only what passed it.
 */
export const STATE_GRAMMAR_PARTS = {
    name: '"[a-z][a-z0-9_]*"',
    canary: '\\{"upstream":NAME,"basisPoints":[0-9]{1,5},"sticky":(true|false),"cookie":"[A-Za-z_][A-Za-z0-9_]*"(,"salt":"[0-9a-f]{1,64}")?\\}',
    grammar: '^\\{"upstream":NAME(,"canary":CANARY)?\\}$',
} as const;

/** The whole expression, as switch-state.sh builds it (POSIX ERE, also valid JavaScript). */
export const STATE_GRAMMAR = STATE_GRAMMAR_PARTS.grammar.replace("CANARY", STATE_GRAMMAR_PARTS.canary).replaceAll("NAME", STATE_GRAMMAR_PARTS.name);

/** Reads a state file back (the preview, tests): one line in STATE_GRAMMAR; throws on anything else. */
export function parseRouteState(content: string): RouteState {
    const line = content.endsWith("\n") ? content.slice(0, -1) : content;
    if (!new RegExp(STATE_GRAMMAR).test(line)) throw new Error(`not a routing state: ${JSON.stringify(content)}`);
    return JSON.parse(line) as RouteState;
}

/**
 * Loads the router (shipped with the scripts) and tells it where the state files are. A
 * listener of another track sets $portal_track, and the router reads <track>-live.state.
 */
export function renderRouterConf(confDir: string, scriptsDir: string, routerSha256?: string): string {
    return (
        "# Managed by Pulumi (project portal): reload-free routing through the njs router.\n" +
        // The router's hash: a new portal-router.js changes this file, so its publish step runs
        // again and reloads nginx, which loads the new script (the upload alone reloads nothing).
        (routerSha256 ? `# ${ROUTER_SCRIPT} sha256 ${routerSha256}\n` : "") +
        `js_import portal_router from ${scriptsDir}/${ROUTER_SCRIPT};\n` +
        `js_var $portal_state_dir ${confDir};\n` +
        "js_var $portal_track;\n" +
        "js_set $portal_live portal_router.live;\n" +
        "js_set $portal_passive portal_router.passive;\n"
    );
}
