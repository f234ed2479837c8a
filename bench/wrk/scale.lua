-- The scale scenarios of bench/run.py --scale: requests read from the file BENCH_REQUESTS, one a
-- line, `METHOD<TAB>PATH<TAB>ACCESS TOKEN<TAB>BODY` (BODY may be empty), each sent with its own
-- `Authorization: Bearer <token>`; the list is cycled (each wrk thread from a start of its own).
-- The runner writes a list of random (user, event) pairs, so that the reads are spread over the
-- whole store and over 100 users, not one hot row. The expected status comes from BENCH_EXPECT
-- (200 for the reads, 409 for the refused conflicting create).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("common")
bench.scenario{
  method = "GET",
  expect = 200,
  requests = function()
    local list = {}
    local path = bench.getenv("BENCH_REQUESTS")
    for line in io.lines(path) do
      local method, target, token, body = line:match("^(%u+)\t([^\t]+)\t([^\t]+)\t(.*)$")
      if method == nil then error("bench: " .. path .. ": bad line: " .. line) end
      local headers = {Authorization = "Bearer " .. token}
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      list[#list + 1] = wrk.format(method, target, headers, body)
    end
    return list
  end,
}
