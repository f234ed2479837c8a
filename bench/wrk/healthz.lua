-- GET /healthz, expect 200: the transport baseline (HTTP parse, one database round trip, render).
-- The bearer is sent as on every scenario, though the route does not read it.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").scenario{method = "GET", expect = 200}
