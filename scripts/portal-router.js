// njs router for the reload-free ("state") switching mode. nginx loads it once
// (router.conf: js_import + js_set); on every request it reads live.state or
// passive.state from $portal_state_dir and returns the upstream name to proxy to.
// A switch is an atomic rename of a state file: the next request sees it, with no
// reload and no worker restart. State: {"upstream":"portal_blue","canary":
// {"upstream":"portal_green","basisPoints":50,"sticky":false,"cookie":"portal_client"}}
// (basisPoints: the canary share in 0.01% units).

var fs = require('fs');

var UPSTREAM = /^portal_[a-z0-9_]+$/;
var UNROUTED = 'portal_unrouted';
var BUCKETS = 10000;

function readState(r, name) {
    try {
        return JSON.parse(fs.readFileSync(r.variables.portal_state_dir + '/' + name + '.state', 'utf8'));
    } catch (e) {
        r.error('portal-router: cannot read ' + name + '.state: ' + e.message);
        return null;
    }
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
        return hash(key) % BUCKETS;
    }
    return Math.floor(Math.random() * BUCKETS);
}

function pick(r, state) {
    if (!state || !UPSTREAM.test(state.upstream)) {
        return UNROUTED;
    }
    var canary = state.canary;
    if (canary && UPSTREAM.test(canary.upstream) && canary.basisPoints > 0 && bucket(r, canary) < canary.basisPoints) {
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
