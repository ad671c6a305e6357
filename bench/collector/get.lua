-- wrk script: GET /i with a realistic ~400-byte page-view query string (as the
-- Snowplow JavaScript tracker sends), keep-alive. Prints one machine-readable line.
-- Optional: env WRK_DELAY_MS paces every connection (used for the half-load run).
local query = "e=pv&url=https%3A%2F%2Fshop.example.com%2Fproducts%2Fboots%3Fcolor%3Dblack%26size%3D42"
  .. "&page=Black%20leather%20boots%20-%20Example%20Shop&refr=https%3A%2F%2Fwww.google.com%2F"
  .. "&tv=js-3.24.0&tna=sp1&aid=shop&p=web&tz=Europe%2FBerlin&lang=de-DE&cs=UTF-8"
  .. "&res=1920x1080&cd=24&cookie=1&eid=4f5b2a7e-1c3d-4e8f-9a0b-1c2d3e4f5a6b"
  .. "&dtm=1700000000000&vp=1903x969&ds=1888x4200&vid=3&sid=0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e"
  .. "&duid=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d&stm=1700000000100"
wrk.method = "GET"
wrk.path = "/i?" .. query
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
wrk.headers["Referer"] = "https://shop.example.com/products/boots"

local pace = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if pace > 0 then
  function delay() return pace end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d non2xx=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
