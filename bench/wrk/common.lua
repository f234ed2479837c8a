-- Shared by every scenario script in bench/wrk/ (wrk 4.1, LuaJIT). A scenario script is a few lines:
--
--   package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
--   require("common").scenario{method = "GET", expect = 200}
--
-- The request goes to the path of the URL that bench/run.py gives wrk (so the same script runs
-- against Almanac's route and against the reference's `/`), with `Authorization: Bearer <token>`.
-- Environment (set by bench/run.py):
--   BENCH_ACCESS_TOKEN   the access token sent as the bearer (required)
--   BENCH_EXPECT         overrides the expected status (the reference always answers 200)
--   BENCH_RESULT         file that done() writes its JSON result to; unset: stdout, one line
--                        starting with "BENCH_WRK "
--   BENCH_WRK_THREADS    wrk's -t (default 1): next_body() scripts use it to give each thread
--                        slots of its own
--   anything else a scenario's body() reads with os.getenv (e.g. BENCH_REFRESH_TOKEN)
-- Every response whose status differs from the expected one is counted; done() reports the count,
-- a histogram of the statuses, wrk's socket errors and the latency percentiles (microseconds).
local M = {}

-- JSON string literal: tokens and passwords are ASCII, but escape what JSON requires anyway.
function M.json_string(value)
  return '"' .. tostring(value):gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function M.getenv(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("bench: environment variable " .. name .. " is not set (bench/run.py sets it)")
  end
  return value
end

local function encode(value)
  local kind = type(value)
  if kind == "table" then
    local parts = {}
    for key, item in pairs(value) do
      parts[#parts + 1] = M.json_string(key) .. ":" .. encode(item)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "string" then
    return M.json_string(value)
  elseif kind == "number" then
    return string.format("%.17g", value)
  end
  return tostring(value)
end

local threads = {}

-- UTC "YYYY-MM-DD HH:MM:SS" of Unix seconds, as the API prints times.
function M.utc(seconds)
  return os.date("!%Y-%m-%d %H:%M:%S", seconds)
end

-- spec: method (default "GET"), expect (status, default 200), body (string or function returning
-- one, evaluated once when the script loads), headers (extra headers table), next_body (function
-- (n, thread_index, thread_count) returning the body of this thread's n-th request, n = 1, 2, ...:
-- a body per request, e.g. a create at a time no other request uses; thread_index is 0-based);
-- requests (function run once in each thread's init, returning a list of whole requests made
-- with wrk.format: each thread sends them in turn, cycling, from a start of its own; for requests
-- that differ in path and bearer, e.g. scale.lua's reads spread over many users' events).
function M.scenario(spec)
  local expect = tonumber(os.getenv("BENCH_EXPECT") or "") or spec.expect or 200
  local body = spec.body
  if type(body) == "function" then body = body() end

  wrk.method = spec.method or "GET"
  wrk.body = body
  wrk.headers["Authorization"] = "Bearer " .. M.getenv("BENCH_ACCESS_TOKEN")
  if body ~= nil or spec.next_body ~= nil then
    wrk.headers["Content-Type"] = "application/json"
  end
  for name, value in pairs(spec.headers or {}) do wrk.headers[name] = value end
  local thread_count = tonumber(os.getenv("BENCH_WRK_THREADS") or "") or 1

  -- Main state: remember every thread so that done() can read its counters, and number them.
  _G.setup = function(thread)
    threads[#threads + 1] = thread
    thread:set("thread_index", #threads - 1)
  end

  -- Per thread state.
  _G.init = function(args)
    unexpected = 0
    statuses = {}
    sent = 0
    thread_index = thread_index or 0
    if spec.next_body ~= nil and thread_index >= thread_count then
      error("bench: wrk runs more threads than BENCH_WRK_THREADS=" .. thread_count)
    end
    if spec.requests ~= nil then
      requests = spec.requests()
      if #requests == 0 then error("bench: no requests to send") end
      -- Threads start apart in the list, so that they do not send the same request together.
      position = (thread_index * math.floor(#requests / thread_count)) % #requests
    end
  end

  if spec.requests ~= nil then
    _G.request = function()
      position = position % #requests + 1
      return requests[position]
    end
  end

  if spec.next_body ~= nil then
    _G.request = function()
      sent = sent + 1
      return wrk.format(nil, nil, nil, spec.next_body(sent, thread_index, thread_count))
    end
  end

  _G.response = function(status, headers, response_body)
    if status ~= expect then unexpected = unexpected + 1 end
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end

  _G.done = function(summary, latency, requests)
    local total_unexpected = 0
    local histogram = {}
    for _, thread in ipairs(threads) do
      total_unexpected = total_unexpected + (thread:get("unexpected") or 0)
      for status, count in pairs(thread:get("statuses") or {}) do
        histogram[status] = (histogram[status] or 0) + count
      end
    end
    local percentiles = {}
    for _, p in ipairs({50, 75, 90, 99, 99.9}) do
      percentiles[tostring(p)] = latency:percentile(p)
    end
    local result = encode({
      expect = expect,
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      unexpected = total_unexpected,
      statuses = histogram,
      errors = {
        connect = summary.errors.connect,
        read = summary.errors.read,
        write = summary.errors.write,
        status = summary.errors.status,
        timeout = summary.errors.timeout,
      },
      latency_us = {
        min = latency.min,
        max = latency.max,
        mean = latency.mean,
        stdev = latency.stdev,
        percentiles = percentiles,
      },
    })
    local path = os.getenv("BENCH_RESULT")
    if path ~= nil and path ~= "" then
      local file = assert(io.open(path, "w"))
      file:write(result, "\n")
      file:close()
    else
      io.write("BENCH_WRK ", result, "\n")
    end
  end
end

return M
