-- wrk script for the HTTP load benchmark (bench/http_load.sh, issue #5
-- "Load"): POST /api/2.0/vector-search/indexes/{index}/query with the
-- pre-generated JSON bodies of a file (one body per line, written by
-- `http_setup bodies`), rotating through them; each wrk thread starts at a
-- different offset.
--
--   VESTA_TOKEN=vst_... wrk -t2 -c16 -d60s --latency -s bench/http_load/query.lua \
--       http://127.0.0.1:18080 -- BODIES_FILE INDEX_NAME
--
-- The bearer token comes from the environment (not argv: ps shows argv).
-- An answer counts as an error when its status is not 2xx (counted per
-- status) or, for a 2xx, when its body lacks "data_array" or has
-- "row_count":0 (a filtered query on these workloads always has matches).
-- done() prints one line the driver parses:
--   RESULT requests=.. duration_s=.. rps=.. p50_ms=.. p90_ms=.. p99_ms=..
--          p999_ms=.. mean_ms=.. max_ms=.. non2xx=.. bad_body=..
--          socket_connect=.. socket_read=.. socket_write=.. socket_timeout=..
--          bytes=.. statuses=200:N,503:M
-- plus the first non-2xx body seen (to name the cause).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, index = args[1], args[2]
  if file == nil or index == nil then
    error("usage: wrk ... -s query.lua URL -- BODIES_FILE INDEX_NAME")
  end
  local token = os.getenv("VESTA_TOKEN")
  if token == nil or token == "" then error("set VESTA_TOKEN to a bearer token") end
  local path = "/api/2.0/vector-search/indexes/" .. index .. "/query"
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  requests_ = {}
  for line in io.lines(file) do
    if #line > 0 then
      requests_[#requests_ + 1] = wrk.format("POST", path, headers, line)
    end
  end
  if #requests_ == 0 then error("no bodies in " .. file) end
  next_ = (id * 37) % #requests_
  non2xx = 0
  bad_body = 0
  statuses = {}
  first_error = ""
end

function request()
  next_ = next_ % #requests_ + 1
  return requests_[next_]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  elseif body == nil or not string.find(body, '"data_array"', 1, true) or
         string.find(body, '"row_count":0', 1, true) then
    bad_body = bad_body + 1
    if first_error == "" then first_error = status .. " (bad body) " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local non2xx_total, bad_total, errors_text = 0, 0, ""
  local by_status = {}
  for _, t in ipairs(threads) do
    non2xx_total = non2xx_total + t:get("non2xx")
    bad_total = bad_total + t:get("bad_body")
    local e = t:get("first_error")
    if errors_text == "" and e ~= nil and e ~= "" then errors_text = e end
    for s, n in pairs(t:get("statuses")) do by_status[s] = (by_status[s] or 0) + n end
  end
  local keys = {}
  for s, _ in pairs(by_status) do keys[#keys + 1] = s end
  table.sort(keys)
  local parts = {}
  for _, s in ipairs(keys) do parts[#parts + 1] = s .. ":" .. by_status[s] end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f " ..
    "mean_ms=%.3f max_ms=%.3f non2xx=%d bad_body=%d socket_connect=%d socket_read=%d socket_write=%d " ..
    "socket_timeout=%d bytes=%d statuses=%s\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency:percentile(99.9) / 1e3, latency.mean / 1e3, latency.max / 1e3,
    non2xx_total, bad_total, e.connect, e.read, e.write, e.timeout, summary.bytes,
    table.concat(parts, ",")))
  if errors_text ~= "" then io.write("FIRST_ERROR " .. errors_text .. "\n") end
end
