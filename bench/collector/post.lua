-- wrk script: POST /com.snowplowanalytics.snowplow/tp2 with a batch of 10 page-view
-- events (about 4 KB), keep-alive. Prints one machine-readable line.
local events = {}
for i = 1, 10 do
  events[i] = string.format('{"e":"pv","url":"https://shop.example.com/products/item-%d?color=black&size=42",'
    .. '"page":"Item %d - Example Shop","refr":"https://www.google.com/","tv":"js-3.24.0","tna":"sp1",'
    .. '"aid":"shop","p":"web","tz":"Europe/Berlin","lang":"de-DE","cs":"UTF-8","res":"1920x1080",'
    .. '"cd":"24","cookie":"1","eid":"4f5b2a7e-1c3d-4e8f-9a0b-1c2d3e4f5a%02d","dtm":"1700000000000",'
    .. '"vp":"1903x969","ds":"1888x4200","vid":"3","sid":"0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e",'
    .. '"duid":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","stm":"1700000000100"}', i, i, i)
end
wrk.method = "POST"
wrk.path = "/com.snowplowanalytics.snowplow/tp2"
wrk.body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":['
  .. table.concat(events, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json; charset=UTF-8"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
wrk.headers["Origin"] = "https://shop.example.com"

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d non2xx=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f body_bytes=%d\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, #wrk.body))
end
