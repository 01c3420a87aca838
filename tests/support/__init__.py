"""What the tests share, by what it holds; conftest.py files hold only fixtures and hooks.

app            the app under test: TEST_SECRET, CLIENT_IP, ClientFactory, runtime(), sql()
audit          an admin who reads the audit trail, reading it and verifying the chain
browser        where headless Chromium and its driver are
captcha        what the loopback siteverify endpoint answers, and its tokens
client_service small services built on authgate.client
client_stub    a stand-in for authgate's JWKS and introspection endpoints; keys and tokens
databases      fresh PostgreSQL databases, resetting the shared one, a private Redis, database faults
delivery       apps that mail and text to the loopback receivers; the outbox settling; expiry
http           register, login, bearer, Set-Cookie, admin tokens, other clients of the same app
introspection  service credentials and /token/introspect calls
limits         what a rate-limit 429 looks like; the limits' Redis keys
mail           the SMTP sink (Mailbox) and links and codes in messages
metrics        scraping /metrics as Prometheus would; counting password hashes
mfa            pyotp as the authenticator app; enrolling a user in MFA
oidc_provider  the local OpenID Connect Provider (and GitHub-shaped API)
paths          the repository root
retention      what the retention tests ask for, wait for and count
server         real `authgate serve` processes, HTTP servers in threads, free ports, waiting
               (PATIENCE, the one upper bound), a process's CPU time
server_webhooks an administrator and webhooks on a real server, over synchronous HTTP
settings       running the CLI with an environment; a refused configuration's message
skip           skip_or_fail: skip without a service, fail in CI
sms            the SMS webhook receiver; an account with a verified phone
social         driving social sign-in as a browser does
webhooks       the webhook receiver, fast-delivery settings, managing webhooks over the API
"""
