-- wrk-random.lua — GET a random path from a file (one path a line) on every request.
--   wrk ... -s bench/wrk-random.lua URL -- PATHS_FILE
-- done() prints one machine-readable line: "RESULT requests=... rps=... p50_us=... p99_us=..."
-- (wrk's own text report is printed as well).

local threads = {}
local nthread = 0

function setup(thread)
    thread:set("tid", nthread)
    nthread = nthread + 1
    table.insert(threads, thread)
end

function init(args)
    reqs = {}
    for line in io.lines(args[1]) do
        if #line > 0 then
            reqs[#reqs + 1] = wrk.format("GET", line)
        end
    end
    if #reqs == 0 then
        error("no path in " .. args[1])
    end
    math.randomseed(os.time() * 100 + tid)
end

function request()
    return reqs[math.random(#reqs)]
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d " ..
                           "p99_us=%d max_us=%d status_errors=%d socket_errors=%d\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        e.status, e.connect + e.read + e.write + e.timeout))
end
