-- POST /login with the benchmark user's credentials (wrk -s bench/login.lua).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
