-- bench/wrk.lua: send one request file's bytes, and print a summary line.
--
--   wrk -t2 -c32 -d4s -s bench/wrk.lua http://127.0.0.1:PORT/index.html \
--       -- bench/requests/CASE.txt
--
-- The request file (see bench/requests/README.md) holds the request line and
-- the header lines, one a line.  Each is sent with CRLF, then the empty line
-- that ends the head, then, when the head has a Content-Length of N, a body
-- of N bytes "x": exactly the bytes bench/client.pl sends for the same file.
-- The cases of bench/run.sh:
--   get       GET of a small static file, one header line (wrk's own request)
--   post      POST with "Expect: 100-continue" and a 4 KiB body; the default
--             handler reads and discards the body and answers the file
--   xfoo      GET with "Expect: x-foo" (417 from both servers)
--   continue  GET with "Expect: 100-continue" and no body
--   ab        ApacheBench 2.3's keep-alive GET (HTTP/1.0, 4 header lines)
--   browser   a Chromium page request (16 header lines, 742 bytes)
--
-- wrk sends a body right away, without waiting for "100 Continue": both
-- servers see exactly the same bytes.  wrk builds its one request by calling
-- wrk.format() right after init(); init() replaces wrk.format with the
-- file's bytes, so the request is still built once and no Lua runs to send
-- one.  wrk's own request count includes interim 100 responses and its
-- error count includes every 417, so response() counts final responses by
-- status, and done() prints one line:
--   wrk-result finals=N duration_us=N s200=N s417=N s100=N other=N
--              connect=N read=N write=N timeout=N
-- bench/run.sh computes requests/s as finals / duration: every completed
-- final response counts, whatever its status.

local function request_bytes(file)
   local fh = assert(io.open(file, "rb"))
   local lines = {}
   for line in fh:lines() do
      lines[#lines + 1] = line:gsub("\r$", "")
   end
   fh:close()
   while #lines > 0 and lines[#lines] == "" do
      lines[#lines] = nil
   end
   assert(#lines > 0, file .. ": empty")
   local len = 0
   for i, line in ipairs(lines) do
      assert(line ~= "", file .. ": an empty line inside the head")
      local n = i > 1 and line:lower():match("^content%-length:%s*(%d+)%s*$")
      if n then
         len = tonumber(n)
      end
   end
   return table.concat(lines, "\r\n") .. "\r\n\r\n" .. string.rep("x", len)
end

function init(args)
   local file = args[1] or error("usage: wrk ... -s bench/wrk.lua URL -- REQUEST_FILE")
   local req = request_bytes(file)
   wrk.format = function()
      return req
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
