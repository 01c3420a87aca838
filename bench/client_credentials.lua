-- POST /oauth2/token, grant_type=client_credentials; the client's HTTP Basic credentials come
-- with wrk -H "Authorization: Basic ...".
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials"
