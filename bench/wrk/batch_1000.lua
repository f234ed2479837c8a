-- POST /api/events/batch/ with 1,000 events (the default: no conflict check), expect 201: JSON
-- parse and validation of each item, then one transaction that inserts the 1,000 events with their
-- OWNER participants. The same body on every request (built once, about 120 kB): the events are
-- spread over three years, 30 min to 3 h long, as seeding does.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("common")
bench.scenario{
  method = "POST",
  expect = 201,
  body = function()
    local titles = {"Standup", "1:1 with manager", "Design review", "Sprint planning",
                    "Customer call", "Lunch", "Interview", "Quarterly business review"}
    local first_day = 1704067200  -- 2024-01-01 00:00:00 UTC
    math.randomseed(20250427)
    local items = {}
    for i = 1, 1000 do
      local start = first_day + math.random(0, 1095) * 86400 + math.random(28, 79) * 900
      local length = math.random(2, 12) * 900  -- 30 min .. 3 h
      items[i] = '{"title":' .. bench.json_string(titles[math.random(#titles)] .. " " .. i) ..
                 ',"start_time":"' .. bench.utc(start) ..
                 '","end_time":"' .. bench.utc(start + length) .. '","location":"Zoom"}'
    end
    return "[" .. table.concat(items, ",") .. "]"
  end,
}
