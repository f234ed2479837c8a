-- POST /api/auth/refresh/ {"refresh": <seeded refresh token>}, expect 200:
-- JWT verify + database read (revocation list, user) + JWT sign.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("common")
bench.scenario{
  method = "POST",
  expect = 200,
  body = function()
    return '{"refresh":' .. bench.json_string(bench.getenv("BENCH_REFRESH_TOKEN")) .. "}"
  end,
}
