-- What the load scripts share (each does `dofile` on this file first).
--
-- Each wrk thread keeps one connection (wrk -t N -c N), so its requests and
-- responses alternate and a script can carry a voter from one request to the
-- next. gunicorn's sync workers close the connection after each response;
-- wrk then connects again, and counts the request as completed.
--
-- A script is given, after "--", the number of threads and its items: a count,
-- or a file of them, one a line, thread k taking the lines k, k + N, k + 2N...
-- A thread that has used all its items prints "exhausted" and stops (see
-- finished()); once every thread has, the benchmark stops wrk (SIGINT) rather
-- than wait for its time limit. Every request sent has then been answered, so
-- the successes counted are all the casts made.
--
-- done() prints one line, "result " and JSON: the successes (counted by the
-- script, not by wrk's status codes), every other outcome by status, the
-- seconds from the first request sent to the last response read, wrk's
-- socket errors and latency percentiles.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

function now()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
   return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

-- Per thread, read by done() through thread:get().
ok, failed, first, last = 0, {}, 0, 0

-- This thread's share of the lines of ``file``: thread id of ``count``.
function my_lines(file, count)
   local mine, n = {}, 0
   for line in io.lines(file) do
      if n % count == id then
         mine[#mine + 1] = line
      end
      n = n + 1
   end
   return mine
end

-- Fields of a tab-separated line.
function fields(line)
   local out = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      out[#out + 1] = field
   end
   return out
end

function sending()
   if first == 0 then
      first = now()
   end
end

-- One outcome: a success, or the reason it was not one (a status, or a word).
function outcome(success, reason)
   last = now()
   if success then
      ok = ok + 1
   else
      reason = tostring(reason)
      failed[reason] = (failed[reason] or 0) + 1
   end
end

local said = false
function exhausted()
   if not said then
      said = true
      io.write("exhausted\n")
      io.flush()
   end
   wrk.thread:stop()
end

-- The value of a cookie set by a response ("name=value; Path=...": "name=value").
function cookie_of(headers, name)
   local set = headers["Set-Cookie"] or headers["set-cookie"]
   if set and set:sub(1, #name + 1) == name .. "=" then
      return set:match("^([^;]*)")
   end
   return nil
end

local function json_string(s)
   return '"' .. tostring(s):gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
   local total, start, stop, reasons = 0, math.huge, 0, {}
   for _, thread in ipairs(threads) do
      total = total + thread:get("ok")
      local f, l = thread:get("first"), thread:get("last")
      if f > 0 then start = math.min(start, f) end
      stop = math.max(stop, l)
      for reason, n in pairs(thread:get("failed")) do
         reasons[reason] = (reasons[reason] or 0) + n
      end
   end
   local parts = {}
   for reason, n in pairs(reasons) do
      parts[#parts + 1] = json_string(reason) .. ":" .. n
   end
   local e = summary.errors
   io.write(string.format(
      'result {"ok":%d,"failed":{%s},"elapsed":%.6f,"requests":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"latency_ms":{"p50":%.3f,"p95":%.3f}}\n',
      total, table.concat(parts, ","), stop > start and stop - start or 0, summary.requests,
      e.connect, e.read, e.write, e.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end

-- This thread's share of ``total`` items spread over ``count`` threads.
function share(total, count)
   return math.floor(total / count) + ((id < total % count) and 1 or 0)
end

-- The "request" of a thread that has used all its items: a line gunicorn refuses at once (400,
-- and it closes the connection) without calling the app, so that the connection wrk opens after
-- the last response does not hold a worker; then the thread stops.
function finished()
   exhausted()
   return "DONE\r\n\r\n"
end

FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }
