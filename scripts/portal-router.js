// njs router for the reload-free ("state") switching mode. nginx loads it once
// (router.conf: js_import + js_set); on every request it reads live.state or
// passive.state from $portal_state_dir and returns the upstream name to proxy to.
// A switch is an atomic rename of a state file: the next request sees it, with no
// reload and no worker restart. State: {"upstream":"portal_blue","canary":
// {"upstream":"portal_green","basisPoints":50,"sticky":false,"cookie":"portal_client"}}
// (basisPoints: the canary share in 0.01% units). A listener of another track (or the
// edge) sets $portal_track: the router then reads <track>-live.state and only proxies to
// upstreams named <track>_*; the main track's names are portal_*.

var fs = require('fs');

var NAME = /^[a-z][a-z0-9]*$/;
var UNROUTED = 'portal_unrouted';
var BUCKETS = 10000;

function trackOf(r) {
    var track = r.variables.portal_track || '';
    return NAME.test(track) ? track : '';
}

function readState(r, name) {
    var track = trackOf(r);
    var file = (track ? track + '-' : '') + name + '.state';
    try {
        return JSON.parse(fs.readFileSync(r.variables.portal_state_dir + '/' + file, 'utf8'));
    } catch (e) {
        r.error('portal-router: cannot read ' + file + ': ' + e.message);
        return null;
    }
}

// Only the upstreams of the listener's own track: portal_blue, py3_red, edge_main.
function isOwnUpstream(r, name) {
    var prefix = (trackOf(r) || 'portal') + '_';
    return typeof name === 'string' && name.indexOf(prefix) === 0 && /^[a-z0-9_]+$/.test(name.slice(prefix.length)) && name.length > prefix.length;
}

// FNV-1a, 32 bits: spreads cookie values and addresses evenly over the buckets.
function hash(text) {
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h;
}

function bucket(r, canary) {
    if (canary.sticky) {
        var key = r.variables['cookie_' + canary.cookie] || r.remoteAddress;
        // The release's salt (hex) first: each release draws its own cohort.
        return hash((typeof canary.salt === 'string' ? canary.salt : '') + key) % BUCKETS;
    }
    return Math.floor(Math.random() * BUCKETS);
}

function pick(r, state) {
    if (!state || !isOwnUpstream(r, state.upstream)) {
        return UNROUTED;
    }
    var canary = state.canary;
    if (canary && isOwnUpstream(r, canary.upstream) && canary.basisPoints > 0 && bucket(r, canary) < canary.basisPoints) {
        return canary.upstream;
    }
    return state.upstream;
}

function live(r) {
    return pick(r, readState(r, 'live'));
}

function passive(r) {
    return pick(r, readState(r, 'passive'));
}

export default { live: live, passive: passive };
