-- LuaJIT router for the reload-free "lua" switching mode (libnginx-mod-http-lua).
-- Same state files as the njs router (live.state, passive.state, <track>-live.state, one
-- JSON line each, written by switch-state.sh), but nginx does not read them per request:
-- the route is held in the shared dictionary `portal_routes`, which every worker sees.
--
--   * request path (set_by_lua in each listener): one shared-dict get, compared with the
--     string this worker parsed last (Lua strings are interned: a pointer compare); no
--     file access, no JSON parse.
--   * switch (switch-lua.sh): switch-state.sh renames the file, then GET /sync?route=<key>
--     on the control socket (router.sock in the nginx directory) makes nginx re-read that
--     file and every route it already holds, and answers the route it now serves. When the
--     answer returns, every request that starts after it sees the new route.
--   * nginx start or reload: init() empties the dictionary; each route is loaded from its
--     file on first use. The files are the truth; the dictionary is their cache.
--
-- The control socket can only make nginx re-read the files (and read the routes back): it
-- takes no route from the request.

local M = {}

local bit = require "bit"
local bxor, lshift, tobit = bit.bxor, bit.lshift, bit.tobit
local byte, match, sub = string.byte, string.match, string.sub
local random = math.random

local UNROUTED = "portal_unrouted"
local BUCKETS = 10000
local KEY = "^[a-z][a-z0-9]*$"
local TRACK_KEY = "^[a-z][a-z0-9]*%-[a-z]+$"

local dict = ngx.shared.portal_routes
local state_dir = nil

-- Per worker: route key -> { raw = dict value parsed, ... }.
local cache = {}

local function valid_key(key)
    if type(key) ~= "string" or #key > 40 then return false end
    if not (match(key, KEY) or match(key, TRACK_KEY)) then return false end
    local name = match(key, "([a-z]+)$")
    return name == "live" or name == "passive"
end

-- Called from init_by_lua (master, at start and at every reload).
function M.init(dir)
    state_dir = dir
    if dict then dict:flush_all() end
end

-- Called from init_worker_by_lua: workers forked from one master share the PRNG state.
function M.seed()
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
end

local function read_file(key)
    local f, err = io.open(state_dir .. "/" .. key .. ".state", "r")
    if not f then return nil, err end
    local raw = f:read("*l")
    f:close()
    if not raw then return nil, key .. ".state is empty" end
    return raw
end

-- The state grammar of switch-state.sh (and lib/nginx/stateRoutes.ts), nothing more.
local function parse(raw, prefix)
    local up, rest = match(raw, '^{"upstream":"([a-z][a-z0-9_]*)"(.-)}$')
    if not up then return nil end
    local route = { raw = raw, upstream = up }
    if rest ~= "" then
        local cup, bp, sticky, cookie, tail = match(rest, '^,"canary":{"upstream":"([a-z][a-z0-9_]*)","basisPoints":(%d+),"sticky":(%l+),"cookie":"([%a_][%w_]*)"(.-)}$')
        if not cup or (sticky ~= "true" and sticky ~= "false") then return nil end
        local salt = ""
        if tail ~= "" then
            salt = match(tail, '^,"salt":"(%x*)"$')
            if not salt then return nil end
        end
        route.canary = cup
        route.bp = tonumber(bp)
        route.sticky = sticky == "true"
        route.cookie = "cookie_" .. cookie
        route.salt = salt
    end
    -- Only the listener's own upstreams: portal_blue, py3_red, edge_main.
    local function own(name)
        return #name > #prefix and sub(name, 1, #prefix) == prefix
    end
    if not own(route.upstream) then route.upstream = UNROUTED end
    if route.canary and (not own(route.canary) or route.bp <= 0) then route.canary = nil end
    return route
end

-- FNV-1a, 32 bits, over salt .. key (the njs router's hash): 0x01000193 = 2^24 + 403.
local function fnv1a(text)
    local h = tobit(0x811c9dc5)
    for i = 1, #text do
        h = bxor(h, byte(text, i))
        h = tobit(h * 403 + lshift(h, 24))
    end
    if h < 0 then h = h + 4294967296 end
    return h
end

local function load(key)
    local raw, err = read_file(key)
    if not raw then
        ngx.log(ngx.ERR, "portal-router: cannot read ", key, ".state: ", err)
        return nil
    end
    local ok = dict:add(key, raw)
    if not ok then raw = dict:get(key) end
    return raw
end

-- set_by_lua_block $portal_live { return require("portal_router").route("live", "portal_") }
function M.route(key, prefix)
    local raw = dict:get(key)
    if raw == nil then
        raw = load(key)
        if raw == nil then return UNROUTED end
    end
    local c = cache[key]
    if c == nil or c.raw ~= raw then
        c = parse(raw, prefix)
        if c == nil then
            ngx.log(ngx.ERR, "portal-router: ", key, " is not a routing state: ", raw)
            return UNROUTED
        end
        cache[key] = c
    end
    local canary = c.canary
    if canary then
        local b
        if c.sticky then
            local client = ngx.var[c.cookie]
            if client == nil or client == "" then client = ngx.var.remote_addr end
            b = fnv1a(c.salt .. client) % BUCKETS
        else
            b = random(BUCKETS) - 1
        end
        if b < c.bp then return canary end
    end
    return c.upstream
end

-- content_by_lua on the control socket: GET /sync?route=<key>.
function M.sync()
    local key = ngx.var.arg_route
    if not valid_key(key) then
        ngx.status = 400
        ngx.say("portal-router: route must be [<track>-]live or [<track>-]passive")
        return
    end
    local keys = dict:get_keys(0)
    keys[#keys + 1] = key
    for _, k in ipairs(keys) do
        local raw, err = read_file(k)
        if raw then
            dict:set(k, raw)
        else
            dict:delete(k)
            ngx.log(ngx.ERR, "portal-router: cannot read ", k, ".state: ", err)
        end
    end
    local served = dict:get(key)
    if served == nil then
        ngx.status = 404
        ngx.say("portal-router: no ", key, ".state")
        return
    end
    ngx.say(served)
end

return M
