-- POST /refresh, each wrk thread following its own rotation chain (run with -tN -cN).
-- BENCH_TOKENS names a file with one starting refresh token per line, one per thread.
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

function init(args)
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    i = i + 1
    if i == id then token = line end
  end
end

function request()
  return wrk.format("POST", "/refresh", {["Content-Type"] = "application/json"},
    '{"refreshToken":"' .. token .. '"}')
end

function response(status, headers, body)
  local rotated = body:match('"refreshToken":"([^"]+)"')
  if rotated then token = rotated end
end
