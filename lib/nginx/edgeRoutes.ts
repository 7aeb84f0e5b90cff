// The edge: nginx on load-balancer hosts in front of the servers. One upstream per track
// (edge_main, edge_py3) spreading over every server's listener of that track, and a split
// between the main track and another one, rendered like a canary (same precision, same
// per-request or sticky modes, same two switching modes). Per-track listeners reach one
// track alone, for testing.

import type { EdgeConfig, PortalConfig } from "../config/config";
import { renderListener } from "./nginxRoutes";
import type { RouteMode } from "./routeModes";
import type { LiveRoute } from "../model/rollout";
import { MAIN_TRACK, namesOf, type Track } from "../model/tracks";

/** The edge's names: upstreams edge_<track>, variable $edge_live, files edge-*.conf / edge-live.state. */
export const EDGE = "edge";

/** The edge's routing scope, named like a track: its "colors" are the tracks. */
export const EDGE_SCOPE = { name: EDGE, main: false } as const;

const HEADER = "# Managed by Pulumi (project portal): the edge. Edits are overwritten by the next switch.\n";

/** The tracks the edge can route to: the main one and every track not retired. */
export function edgeTracks(tracks: Track[]): Track[] {
    return tracks.filter((t) => !t.retired);
}

export function renderEdgeUpstreams(config: PortalConfig, tracks: Track[]): string {
    const blocks = edgeTracks(tracks).map((track) => {
        const servers = config.servers.map((s) => `    server ${s.host}:${track.site!.live} max_fails=3 fail_timeout=10s;\n`).join("");
        return `upstream ${namesOf(EDGE_SCOPE).upstream(track.name)} {\n${servers}    keepalive ${config.nginx.keepalive};\n}\n`;
    });
    return HEADER + blocks.join("");
}

/**
 * The split as a live route whose colors are tracks: 0 -> all to main, 100 -> all to the
 * track, anything between -> that share to the track.
 */
export function edgeRoute(config: PortalConfig, edge: EdgeConfig): LiveRoute {
    const split = edge.split;
    if (!split || split.percent === 0) return { color: MAIN_TRACK };
    if (split.percent === 100) return { color: split.track };
    const { mode, cookie } = config.nginx.canary;
    return { color: MAIN_TRACK, canary: { color: split.track, percent: split.percent, mode, cookie } };
}

/** The public listener follows the split; one listener per track in edge.trackPorts reaches that track alone. */
export function renderEdgeSite(edge: EdgeConfig, mode: Pick<RouteMode, "edgeListener">): string {
    const { address, port } = edge.listen;
    const publicListener = mode.edgeListener(address, port);
    const trackListeners = Object.entries(edge.trackPorts).map(([track, trackPort]) => renderListener(address, trackPort, namesOf(EDGE_SCOPE).upstream(track)));
    return HEADER + publicListener + trackListeners.join("");
}
