-- POST /api/events/ with conflict detection on (no allow_conflicts), expect 201: every request a
-- 45-minute event in a one-hour slot of its own, so that none overlaps another. Slot k of the run
-- starts at BENCH_SLOT_BASE (Unix seconds, on the hour) + k hours; wrk thread i of t takes the
-- slots i, i + t, i + 2t, ... The runner moves BENCH_SLOT_BASE past the last stored event before
-- each run, so that rounds never reuse a slot.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("common")
local base = tonumber(bench.getenv("BENCH_SLOT_BASE"))
bench.scenario{
  method = "POST",
  expect = 201,
  next_body = function(n, thread_index, thread_count)
    local start = base + ((n - 1) * thread_count + thread_index) * 3600
    return '{"title":"bench create ' .. thread_index .. "-" .. n ..
           '","description":"Load test","start_time":"' .. bench.utc(start) ..
           '","end_time":"' .. bench.utc(start + 2700) .. '","location":"Room 1"}'
  end,
}
