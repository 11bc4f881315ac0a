-- wrk script of `make soak`. The request class comes from SOAK_CLASS:
--   plain     GET /index.txt                                   -> 200
--   rejected  POST /index.txt, Expect: x-bad, body sent at once   -> 417
--             (alternating with GET /index.txt, Expect: x-bad)
--   allowed   GET /index.txt or POST /index.txt, Expect: x-trace  -> 200
-- Each thread stops after SOAK_PER_THREAD responses and appends a line to
-- SOAK_DONE_FILE; soak/run.sh then interrupts wrk. done() prints one line
--   SOAK class=<c> responses=<n> status_<code>=<n> ... errors=<n>
-- that soak/run.sh checks.

local class = os.getenv("SOAK_CLASS") or "plain"
local quota = tonumber(os.getenv("SOAK_PER_THREAD") or "1000")
local body = string.rep("b", 1024)
local done_file = os.getenv("SOAK_DONE_FILE") or "/dev/null"
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
    responses = 0
    local get = wrk.format("GET", "/index.txt")
    if class == "plain" then
        reqs = { get }
    elseif class == "rejected" then
        reqs = {
            wrk.format("POST", "/index.txt", { ["Expect"] = "x-bad",
                       ["Content-Type"] = "application/octet-stream" }, body),
            wrk.format("GET", "/index.txt", { ["Expect"] = "x-bad" }),
        }
    elseif class == "allowed" then
        reqs = {
            wrk.format("GET", "/index.txt", { ["Expect"] = "x-trace" }),
            wrk.format("POST", "/index.txt", { ["Expect"] = "x-trace",
                       ["Content-Type"] = "application/octet-stream" }, body),
        }
    else
        error("unknown SOAK_CLASS " .. class)
    end
    n = 0
end

function request()
    n = n + 1
    return reqs[(n % #reqs) + 1]
end

function response(status, headers, body)
    responses = responses + 1
    statuses[status] = (statuses[status] or 0) + 1
    if responses == quota then
        -- wrk itself runs for its whole -d duration: tell soak/run.sh this
        -- thread is done; it interrupts wrk once every thread is.
        wrk.thread:stop()
        local f = io.open(done_file, "a")
        if f then
            f:write("done\n")
            f:close()
        end
    end
end

function done(summary, latency, requests)
    local total, merged = 0, {}
    for _, t in ipairs(threads) do
        total = total + t:get("responses")
        for code, count in pairs(t:get("statuses")) do
            merged[code] = (merged[code] or 0) + count
        end
    end
    local line = string.format("SOAK class=%s responses=%d", class, total)
    for code, count in pairs(merged) do
        line = line .. string.format(" status_%d=%d", code, count)
    end
    local e = summary.errors
    -- (e.status counts every status >= 400, i.e. the expected 417s too;
    -- statuses are checked per code above instead)
    line = line .. string.format(" errors=%d", e.connect + e.read + e.write
                                 + e.timeout)
    io.write(line .. "\n")
end
