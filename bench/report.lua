-- wrk script: authenticates every request with the bench user's token and prints one
-- JSON line of results for bench/load.py to read.
local token = os.getenv("BENCH_TOKEN")
wrk.headers["Authorization"] = "Token " .. token
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d,'
      .. ' "write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d,'
      .. ' "p95": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
