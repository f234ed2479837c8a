-- POST /api/auth/login/ {"username", "password"} of the seeded user, expect 200:
-- one argon2id verification on the hashing pool dominates, then two JWT signs.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("common")
bench.scenario{
  method = "POST",
  expect = 200,
  body = function()
    return '{"username":' .. bench.json_string(bench.getenv("BENCH_USERNAME")) ..
           ',"password":' .. bench.json_string(bench.getenv("BENCH_PASSWORD")) .. "}"
  end,
}
