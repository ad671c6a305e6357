-- wrk script: POSTs tp2 batches of BATCH page views (each with a fresh event id) to
-- the collector; counts 200s so the driver knows how many events were acknowledged.
local batch = tonumber(os.getenv("BATCH") or "10")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
  ok = 0
end

local function uuid()
  counter = counter + 1
  return string.format("%08x-0000-4000-8000-%012x", thread_id, counter)
end

function request()
  local events = {}
  for i = 1, batch do
    events[i] = '{"e":"pv","eid":"' .. uuid() .. '","tv":"wrk-1","p":"web","aid":"bench",' ..
        '"url":"http://example.com/page/' .. (counter % 300) .. '","uid":"user-' .. (counter % 400) ..
        '","ua":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"}'
  end
  local body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[' ..
      table.concat(events, ",") .. ']}'
  return wrk.format("POST", "/com.snowplowanalytics.snowplow/tp2",
                    {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("ok") end
  io.write(string.format("acknowledged_requests %d\n", total))
end
