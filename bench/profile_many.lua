-- GET /profile, each request with the next access token of BENCH_TOKENS (one per line), so that
-- requests spread over many sessions instead of hitting one cached session.
local tokens = {}
local next_index = 0

function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  next_index = math.random(#tokens)
end

function request()
  next_index = next_index % #tokens + 1
  return wrk.format("GET", "/profile", {["Authorization"] = "Bearer " .. tokens[next_index]})
end
