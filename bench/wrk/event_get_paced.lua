-- GET /api/events/{id}/ as event_get.lua, but paced: each connection waits BENCH_PACE_MS
-- milliseconds after every answer before its next request, so that a few connections offer a
-- moderate load (about connections x 1000 / (BENCH_PACE_MS + latency) requests a second) that
-- leaves the cores partly idle. wrk starts a request's latency clock when it sends it, after the
-- pause: the percentiles are the server's answer times, not the pauses.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("common")
local pace_ms = tonumber(bench.getenv("BENCH_PACE_MS"))
bench.scenario{method = "GET", expect = 200}
_G.delay = function() return pace_ms end
