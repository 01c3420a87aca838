-- POST /oauth2/token, grant_type=authorization_code: each request spends the next unused code
-- of BENCH_CODES (one per line; with -tN and BENCH_THREADS=N, thread k takes lines k, k + N,
-- ...). BENCH_FORM_TAIL is the rest of the form (&redirect_uri=...&code_verifier=...); the
-- client's HTTP Basic credentials come with wrk -H "Authorization: Basic ...". A thread that
-- has spent its codes stops.
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  codes = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_CODES")) do
    if i % threads == id - 1 then codes[#codes + 1] = line end
    i = i + 1
  end
  used = 0
  tail = os.getenv("BENCH_FORM_TAIL")
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  used = used + 1
  if used >= #codes then
    wrk.thread:stop()
    used = #codes
  end
  return wrk.format("POST", nil, nil, "grant_type=authorization_code&code=" .. codes[used] .. tail)
end
