// Renders the nginx include files that route traffic to the colors (reload mode).
// upstreams.conf names one upstream per color; live.conf and passive.conf each define one
// variable ($portal_live, $portal_passive) holding an upstream name, which the site's
// `proxy_pass http://$portal_live;` uses. Prepare rewrites passive.conf only; deploy,
// rollback and canary changes rewrite live.conf only.

import { COLORS, type AppConfig, type Color } from "../config/config";
import { luaRouteLine, routeKey } from "./luaRoutes";
import type { CanarySplit, LiveRoute, PassiveRoute } from "../model/rollout";
import { PROJECT } from "../model/project";
import { upstreamName } from "../model/tracks";

export { upstreamName };

export const UPSTREAMS_FILE = "upstreams.conf";
export const LIVE_FILE = "live.conf";
export const PASSIVE_FILE = "passive.conf";

/** The main track's names; another track uses its own name as the prefix ($py3_live, py3_red). */
export const MAIN_PREFIX = PROJECT;

const HEADER = "# Managed by Pulumi (project portal). Edits are overwritten by the next switch.\n";

export function liveVariable(prefix = MAIN_PREFIX): string {
    return `$${prefix}_live`;
}

export function passiveVariable(prefix = MAIN_PREFIX): string {
    return `$${prefix}_passive`;
}

/** One upstream per color; `ports` in the colors' order (default: the main track's blue and green). */
/**
 * Idle keep-alive connections each nginx worker keeps per upstream (`portal:nginx.keepalive`).
 * 64, measured (README, `npm run bench:proxy`): with 32 clients a pool of 16 overflows and
 * nginx opens a new upstream connection for a quarter of the requests.
 */
export const DEFAULT_KEEPALIVE = 64;

export function renderUpstreams(app: AppConfig, ports: Record<Color, number> = pick(app.hostPorts, COLORS), prefix = MAIN_PREFIX, keepalive = DEFAULT_KEEPALIVE): string {
    const blocks = Object.entries(ports).map(
        ([color, port]) => `upstream ${upstreamName(color, prefix)} {\n    server ${app.upstreamHost}:${port} max_fails=0;\n    keepalive ${keepalive};\n}\n`,
    );
    return HEADER + blocks.join("");
}

function pick(ports: Record<Color, number>, colors: readonly Color[]): Record<Color, number> {
    return Object.fromEntries(colors.map((c) => [c, ports[c]]));
}

function fixedRoute(variable: string, upstream: string): string {
    return `map $host ${variable} {\n    default ${upstream};\n}\n`;
}

/** nginx's split_clients takes percentages with two decimals: 0.01% is the finest share. */
export function formatPercent(percent: number): string {
    return `${Number(percent.toFixed(2))}%`;
}

function splitRoute(variable: string, live: Color, canary: CanarySplit, prefix: string): string {
    if (!(canary.percent >= 0.01 && canary.percent < 100)) {
        throw new Error(`a canary split needs a share from 0.01 to 99.99 percent, not ${canary.percent}`);
    }
    let key = "${request_id}";
    let keyMap = "";
    if (canary.mode === "sticky") {
        // A client keeps its side: hash its cookie, or its address when it has none.
        keyMap = `map $cookie_${canary.cookie} $${prefix}_client_key {\n    "" $remote_addr;\n    default $cookie_${canary.cookie};\n}\n`;
        // The release's salt first: each release hashes its clients afresh.
        key = `${canary.salt ?? ""}\${${prefix}_client_key}`;
    }
    return (
        keyMap +
        `split_clients "${key}" ${variable} {\n` +
        `    ${formatPercent(canary.percent)} ${upstreamName(canary.color, prefix)};\n` +
        `    * ${upstreamName(live, prefix)};\n` +
        `}\n`
    );
}

export function renderLiveRoute(route: LiveRoute, prefix = MAIN_PREFIX): string {
    const variable = liveVariable(prefix);
    const body = route.canary ? splitRoute(variable, route.color, route.canary, prefix) : fixedRoute(variable, upstreamName(route.color, prefix));
    return HEADER + body;
}

export function renderPassiveRoute(route: PassiveRoute, prefix = MAIN_PREFIX): string {
    return HEADER + fixedRoute(passiveVariable(prefix), upstreamName(route.color, prefix));
}

export const SITE_FILE = "site.conf";

export interface SiteRouting {
    /** The variables' prefix: $<prefix>_live and $<prefix>_passive. */
    prefix: string;
    /** State mode: the track the njs router reads (`set $portal_track <name>;`); none for the main track. */
    stateTrack?: string;
    /** Lua mode: each listener sets its variable with set_by_lua from the track's routes (main: none). */
    lua?: { track?: string };
}

/** One nginx listener proxying with keep-alive to `target` (a variable or an upstream name). */
export function renderListener(address: string, port: number, target: string, stateTrack?: string, luaLine?: string): string {
    const select = (stateTrack ? `    set $portal_track ${stateTrack};\n` : "") + (luaLine ? `    ${luaLine}\n` : "");
    return (
        `server {\n    listen ${address}:${port};\n${select}    location / {\n        proxy_pass http://${target};\n` +
        `        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n        proxy_set_header Host $host;\n` +
        `        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    }\n}\n`
    );
}

/** One listener per upstream; proxies with keep-alive to the colors. */
export function renderSite(site: { address: string; live: number; passive: number }, routing: SiteRouting = { prefix: MAIN_PREFIX }): string {
    const lua = routing.lua;
    const line = (variable: string, name: "live" | "passive") =>
        lua ? luaRouteLine(variable, routeKey(lua.track, name), lua.track ?? MAIN_PREFIX) : undefined;
    return (
        HEADER +
        renderListener(site.address, site.live, liveVariable(routing.prefix), routing.stateTrack, line(liveVariable(routing.prefix), "live")) +
        renderListener(site.address, site.passive, passiveVariable(routing.prefix), routing.stateTrack, line(passiveVariable(routing.prefix), "passive"))
    );
}
