// Tracks: generations of the app running side by side on the same servers, each with its
// own pair of colors, image, release, host ports, nginx listeners, directory and names.
// The main track is today's top-level config; its names are the ones a single-track stack
// always had (portal_blue, $portal_live, live.conf, web1-route-live), so adding a track
// changes nothing of it. Every other name is derived from the track's name.

import { COLORS, type Color, type NginxSiteConfig, type PortalConfig, type ReleaseConfig } from "../config/config";
import { PROJECT } from "./project";

export const MAIN_TRACK = "main";

/** What names a track's (or the edge's) nginx upstreams, variables and route files. */
export interface RouteScope {
    name: string;
    main: boolean;
}

export interface Track extends RouteScope {
    colors: readonly [Color, Color];
    image: string;
    release: ReleaseConfig;
    hostPorts: Record<Color, number>;
    site?: NginxSiteConfig;
    dir: string;
    retired: boolean;
}

export function tracksOf(config: PortalConfig): Track[] {
    const main: Track = {
        name: MAIN_TRACK,
        main: true,
        colors: COLORS,
        image: config.image,
        release: config.release,
        hostPorts: config.app.hostPorts,
        site: config.nginx.site,
        dir: config.dir,
        retired: false,
    };
    return [main, ...config.tracks.map((t) => ({ ...t, main: false }))];
}

/** The prefix of the track's nginx names: upstreams `<prefix>_<color>`, variables `$<prefix>_live`. */
export function nginxPrefix(track: RouteScope): string {
    return track.main ? PROJECT : track.name;
}

/** A file or resource-name part scoped to the track: `live.conf` / `py3-live.conf`. */
export function trackScoped(track: RouteScope, name: string): string {
    return track.main ? name : `${track.name}-${name}`;
}

/** The docker compose project (and container name prefix) of the track on a server. */
export function composeProject(track: Track): string {
    return track.main ? PROJECT : `${PROJECT}-${track.name}`;
}

/** The other color of the track's pair (any `{ colors }`, e.g. a bare pair for the release helper). */
export function otherColorOf(track: Pick<Track, "colors">, color: Color): Color {
    return track.colors[0] === color ? track.colors[1] : track.colors[0];
}
