// Renders the nginx include files that route traffic to the colors (reload mode).
// upstreams.conf names one upstream per color; live.conf and passive.conf each define one
// variable ($portal_live, $portal_passive) holding an upstream name, which the site's
// `proxy_pass http://$portal_live;` uses. Prepare rewrites passive.conf only; deploy,
// rollback and canary changes rewrite live.conf only.

import { COLORS, type AppConfig, type Color } from "./config";
import type { CanarySplit, LiveRoute, PassiveRoute } from "./rollout";

export const UPSTREAMS_FILE = "upstreams.conf";
export const LIVE_FILE = "live.conf";
export const PASSIVE_FILE = "passive.conf";

export const LIVE_VARIABLE = "$portal_live";
export const PASSIVE_VARIABLE = "$portal_passive";

const HEADER = "# Managed by Pulumi (project portal). Edits are overwritten by the next switch.\n";

export function upstreamName(color: Color): string {
    return `portal_${color}`;
}

export function renderUpstreams(app: AppConfig): string {
    const blocks = COLORS.map(
        (color) =>
            `upstream ${upstreamName(color)} {\n    server ${app.upstreamHost}:${app.hostPorts[color]} max_fails=0;\n    keepalive 16;\n}\n`,
    );
    return HEADER + blocks.join("");
}

function fixedRoute(variable: string, color: Color): string {
    return `map $host ${variable} {\n    default ${upstreamName(color)};\n}\n`;
}

/** nginx's split_clients takes percentages with two decimals: 0.01% is the finest share. */
export function formatPercent(percent: number): string {
    return `${Number(percent.toFixed(2))}%`;
}

function splitRoute(variable: string, live: Color, canary: CanarySplit): string {
    if (!(canary.percent >= 0.01 && canary.percent < 100)) {
        throw new Error(`a canary split needs a share from 0.01 to 99.99 percent, not ${canary.percent}`);
    }
    let key = "${request_id}";
    let keyMap = "";
    if (canary.mode === "sticky") {
        // A client keeps its side: hash its cookie, or its address when it has none.
        keyMap = `map $cookie_${canary.cookie} $portal_client_key {\n    "" $remote_addr;\n    default $cookie_${canary.cookie};\n}\n`;
        key = "${portal_client_key}";
    }
    return (
        keyMap +
        `split_clients "${key}" ${variable} {\n` +
        `    ${formatPercent(canary.percent)} ${upstreamName(canary.color)};\n` +
        `    * ${upstreamName(live)};\n` +
        `}\n`
    );
}

export function renderLiveRoute(route: LiveRoute): string {
    const body = route.canary ? splitRoute(LIVE_VARIABLE, route.color, route.canary) : fixedRoute(LIVE_VARIABLE, route.color);
    return HEADER + body;
}

export function renderPassiveRoute(route: PassiveRoute): string {
    return HEADER + fixedRoute(PASSIVE_VARIABLE, route.color);
}

export const SITE_FILE = "site.conf";

/** One listener per upstream; proxies with keep-alive to the colors. */
export function renderSite(site: { address: string; live: number; passive: number }): string {
    const server = (port: number, variable: string) =>
        `server {\n    listen ${site.address}:${port};\n    location / {\n        proxy_pass http://${variable};\n` +
        `        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n        proxy_set_header Host $host;\n` +
        `        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    }\n}\n`;
    return HEADER + server(site.live, LIVE_VARIABLE) + server(site.passive, PASSIVE_VARIABLE);
}
