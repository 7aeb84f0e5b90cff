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

/** The nginx upstream of a color (at the edge: of a track) under a name prefix: `portal_blue`, `py3_red`, `edge_main`. */
export function upstreamName(color: Color, prefix: string = PROJECT): string {
    return `${prefix}_${color}`;
}

/**
 * Every name derived from a track, or from the edge's scope, in one place. The main track's
 * are the ones a single-track stack always had (`portal_blue`, `$portal_live`, `live.conf`,
 * `web1-route-live`, compose project `portal`); another track's derive from its name.
 */
export interface TrackNames {
    /** The prefix of its nginx upstreams and variables: `portal_<color>`, `$portal_live`; `py3_<color>`, `$py3_live`. */
    readonly nginxPrefix: string;
    /** Its docker compose project, also its containers' name prefix: `portal` / `portal-py3`. */
    readonly composeProject: string;
    /** A file or resource-name part scoped to it: `live.conf` / `py3-live.conf`, `route-live` / `py3-route-live`. */
    scoped(name: string): string;
    /** The nginx upstream of one of its colors (the edge's: of a track). */
    upstream(color: Color): string;
}

export function namesOf(scope: RouteScope): TrackNames {
    const nginxPrefix = scope.main ? PROJECT : scope.name;
    return {
        nginxPrefix,
        composeProject: scope.main ? PROJECT : `${PROJECT}-${scope.name}`,
        scoped: (name) => (scope.main ? name : `${scope.name}-${name}`),
        upstream: (color) => upstreamName(color, nginxPrefix),
    };
}

/** The other color of the track's pair (any `{ colors }`, e.g. a bare pair for the release helper). */
export function otherColorOf(track: Pick<Track, "colors">, color: Color): Color {
    return track.colors[0] === color ? track.colors[1] : track.colors[0];
}
