-- wrk script for bench/web.sh: each connection walks the list of paths in PATHS_FILE (one per
-- line: the page and API requests a dashboard session makes), and the summary prints the
-- latency percentiles (p50, p95, p99) that the target is stated in, with errors by kind.
local paths = {}
local counter = 0

function init(args)
  local file = io.open(os.getenv("PATHS_FILE"), "r")
  for line in file:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  file:close()
  counter = math.random(#paths)
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end

function done(summary, latency, requests)
  local ms = function(us) return string.format("%.1f", us / 1000) end
  io.write(string.format("requests %d in %.1f s (%.0f/s); non-2xx %d; socket errors %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency ms: p50 %s  p95 %s  p99 %s  max %s\n",
    ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)), ms(latency.max)))
end
