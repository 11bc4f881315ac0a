-- bench/wrk.lua: the request of each benchmark case, and a summary line.
--
--   wrk -t2 -c32 -d4s -s bench/wrk.lua http://127.0.0.1:PORT/index.html -- CASE
--
-- CASE is one of:
--   get       GET of a small static file
--   post      POST with "Expect: 100-continue" and a 4 KiB body; the default
--             handler reads and discards the body and answers the file
--   xfoo      GET with "Expect: x-foo" (417 from both servers)
--   continue  GET with "Expect: 100-continue" and no body
--
-- wrk sends a body right away, without waiting for "100 Continue": both
-- servers see exactly the same bytes.  wrk's own request count includes
-- interim 100 responses and its error count includes every 417, so
-- response() counts final responses by status, and done() prints one line:
--   wrk-result finals=N duration_us=N s200=N s417=N s100=N other=N
--              connect=N read=N write=N timeout=N
-- bench/run.sh computes requests/s as finals / duration: every completed
-- final response counts, whatever its status.

local body4k = string.rep("x", 4096)

function init(args)
   local case = args[1] or "get"
   wrk.method = "GET"
   wrk.body = nil
   wrk.headers["Host"] = "127.0.0.1"
   if case == "post" then
      wrk.method = "POST"
      wrk.body = body4k
      wrk.headers["Content-Type"] = "application/octet-stream"
      wrk.headers["Expect"] = "100-continue"
   elseif case == "xfoo" then
      wrk.headers["Expect"] = "x-foo"
   elseif case == "continue" then
      wrk.headers["Expect"] = "100-continue"
   elseif case ~= "get" then
      error("unknown case " .. case)
   end
   s100, s200, s417, other = 0, 0, 0, 0
end

function response(status, headers, body)
   if status == 200 then
      s200 = s200 + 1
   elseif status == 417 then
      s417 = s417 + 1
   elseif status == 100 then
      s100 = s100 + 1
   else
      other = other + 1
   end
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local n = { s100 = 0, s200 = 0, s417 = 0, other = 0 }
   for _, t in ipairs(threads) do
      for k in pairs(n) do
         n[k] = n[k] + (t:get(k) or 0)
      end
   end
   local e = summary.errors
   io.write(string.format(
      "wrk-result finals=%d duration_us=%d s200=%d s417=%d s100=%d other=%d"
      .. " connect=%d read=%d write=%d timeout=%d\n",
      n.s200 + n.s417 + n.other, summary.duration, n.s200, n.s417, n.s100,
      n.other, e.connect, e.read, e.write, e.timeout))
end
