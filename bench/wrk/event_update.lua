-- PUT /api/events/{id}/ of an event the seeded user owns, expect 200: each request moves it to the
-- other of two slots (10:00-11:00 or 12:00-13:00 on BENCH_UPDATE_DAY, which holds no other event
-- of the user) with a title of its own, so that every request changes the event: a read, the
-- conflict check of the new times (the event itself excluded) and the write, durable before the
-- answer. Requests in flight together leave the event in either slot: never a conflict.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("common")
local day = bench.getenv("BENCH_UPDATE_DAY")  -- "2099-06-01"
bench.scenario{
  method = "PUT",
  expect = 200,
  next_body = function(n, thread_index, thread_count)
    local hour = (n % 2 == 0) and 10 or 12
    return string.format('{"title":"bench update %d-%d","start_time":"%s %02d:00:00",' ..
                         '"end_time":"%s %02d:00:00"}', thread_index, n, day, hour, day, hour + 1)
  end,
}
