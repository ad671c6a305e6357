-- wrk script: POSTs the payload in $PAYLOAD_FILE to /usage_data with a unique uuid
-- per request (so every request stores a new ping).
local file = assert(io.open(os.getenv("PAYLOAD_FILE"), "rb"))
local template = file:read("*a")
file:close()
local at = string.find(template, "UUID_PLACEHOLDER", 1, true)
local prefix = string.sub(template, 1, at - 1)
local suffix = string.sub(template, at + string.len("UUID_PLACEHOLDER"))
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = prefix .. "bench-" .. tid .. "-" .. counter .. "-" .. math.random(1, 1000000000) .. suffix
  return wrk.format(nil, "/usage_data", nil, body)
end
