-- POST /auth/jwt/login of the peer (form-encoded), with BENCH_LOGIN_FORM as the body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = os.getenv("BENCH_LOGIN_FORM")
