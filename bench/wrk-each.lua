-- wrk-each.lua — send every request of a file exactly once, spread over wrk's threads and
-- connections, and time them: the rate of a one-off batch (checkouts, callbacks).
--   wrk -tT -cC -d120s -s bench/wrk-each.lua URL -- REQUESTS_FILE NTHREADS DONE_PREFIX
-- REQUESTS_FILE: one request a line, tab-separated METHOD, PATH, HEADERS, BODY, headers
-- "Name: value" joined by %0A, %-escapes in headers and body (bench/gwdata.py writes it).
-- Thread k takes lines k, k+T, k+2T...; once all its requests are answered it stops and
-- creates DONE_PREFIX.k (wrk itself only ends after -d: the caller sends it SIGINT when all
-- T files exist). A connection with nothing left to send waits (delay()) instead of sending.
-- done() prints "RESULT requests=... elapsed_us=... rate=... p50_us=... p99_us=...
-- statuses=200:N,503:M" where elapsed runs from the first request sent to the last answer.

local ffi = require("ffi")
ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk, bench_timespec *ts);
]]
local CLOCK_MONOTONIC = 1

local function now_us()
    local ts = ffi.new("bench_timespec")
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local function unescape(s)
    return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local threads = {}
local nthread = 0

function setup(thread)
    thread:set("tid", nthread)
    nthread = nthread + 1
    table.insert(threads, thread)
end

function init(args)
    local file, nthreads = args[1], tonumber(args[2])
    done_file = args[3] .. "." .. tid
    reqs = {}
    local i = 0
    for line in io.lines(file) do
        if i % nthreads == tid then
            local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
            local h = {}
            for item in unescape(headers):gmatch("[^\n]+") do
                local name, value = item:match("^([^:]+): ?(.*)$")
                h[name] = value
            end
            body = unescape(body)
            reqs[#reqs + 1] = wrk.format(method, path, h, #body > 0 and body or nil)
        end
        i = i + 1
    end
    reserved, sent, answered, t_first, t_last = 0, 0, 0, 0, 0
    statuses = {}
    -- wrk calls request() once on thread 0 before the run, to check the request's shape
    probed = tid ~= 0
    if #reqs == 0 then
        io.open(done_file, "w"):close()
    end
end

-- A connection may send only after reserving one of the requests not yet sent.
function delay()
    if reserved < #reqs then
        reserved = reserved + 1
        return 0
    end
    return 3600000
end

function request()
    if not probed then
        probed = true
        return reqs[1] or wrk.format("GET", "/")
    end
    sent = sent + 1
    if sent == 1 then
        t_first = now_us()
    end
    return reqs[math.min(sent, #reqs)]   -- past the end only after a reconnection: a replay
end

function response(status, headers, body)
    answered = answered + 1
    statuses[status] = (statuses[status] or 0) + 1
    if answered == #reqs then
        t_last = now_us()
        io.open(done_file, "w"):close()
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local first, last, n, counts = nil, 0, 0, {}
    for _, t in ipairs(threads) do
        local f, l = t:get("t_first"), t:get("t_last")
        if f and f > 0 and (first == nil or f < first) then first = f end
        if l and l > last then last = l end
        n = n + (t:get("answered") or 0)
        for status, c in pairs(t:get("statuses") or {}) do
            counts[status] = (counts[status] or 0) + c
        end
    end
    local list = {}
    for status, c in pairs(counts) do list[#list + 1] = status .. ":" .. c end
    table.sort(list)
    local elapsed = (first and last > first) and (last - first) or 0
    io.write(string.format("RESULT requests=%d elapsed_us=%d rate=%.1f p50_us=%d p99_us=%d " ..
                           "max_us=%d statuses=%s\n", n, elapsed,
        elapsed > 0 and n / (elapsed / 1e6) or 0, latency:percentile(50),
        latency:percentile(99), latency.max, table.concat(list, ",")))
end
