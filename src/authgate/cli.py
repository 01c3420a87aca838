"""The `authgate` command: serve, migrate, mail, user create|import|stats, audit verify, service, client,
keys, openapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

from authgate.settings import LOOPBACK_HOSTS, ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"authgate: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest value; the first row is the heading."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


async def _migrate(settings: Settings) -> None:
    from authgate.storage.db import make_engine
    from authgate.storage.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def cmd_migrate(_args: argparse.Namespace) -> int:
    asyncio.run(_migrate(_settings()))
    print("authgate: database is up to date")
    return 0


def _migrate_and_exit(settings: Settings) -> None:
    asyncio.run(_migrate(settings))


def _migrate_apart(settings: Settings) -> bool:
    """Apply pending migrations in a forked child, so that the migration tooling (Alembic and
    the scripts, about 11 MB) never loads into the process that then serves. True if done."""
    if not hasattr(os, "fork"):
        asyncio.run(_migrate(settings))
        return True
    child = multiprocessing.get_context("fork").Process(target=_migrate_and_exit, args=(settings,), name="migrate")
    child.start()
    child.join()
    return child.exitcode == 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from authgate.connection import BoundedHeadersProtocol
    from authgate.observability.workers import share_across_workers
    from authgate.serving import STARTUP_FAILURE, Supervisor, WorkerOptions, check_free, serve, spreads_connections

    settings = _serving_settings(args.host, args.port)
    signal.signal(signal.SIGTERM, _stopped_on_request)
    if not _migrate_apart(settings):
        return 1
    share_across_workers(args.workers)  # before the workers start: one /metrics sums every worker
    if not _pages_ready(settings):  # after it: the pages' modules load the metrics library
        return 2
    options: dict[str, Any] = {
        "app": "authgate.app:create_app",
        "factory": True,
        "host": args.host,
        "port": args.port,
        "proxy_headers": False,  # X-Forwarded-For is judged by AUTHGATE_TRUSTED_PROXIES, not uvicorn
        "server_header": False,
        "http": BoundedHeadersProtocol,  # headers bounded in size and time (connection.py)
        "ws": "none",  # no WebSocket route: the websockets library never loads (about 1 MB a worker)
        "access_log": args.access_log,
        "log_level": settings.log_level.lower(),
        # In-flight requests may finish. uvicorn hands it to asyncio.wait_for: a float works, though typed int.
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
    }
    if args.workers > 1 and spreads_connections():
        try:
            check_free(args.host, args.port)
        except OSError as exc:
            print(f"authgate: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
            return 1
        worker_options = WorkerOptions(host=args.host, port=args.port, uvicorn=options)
        return Supervisor(worker_options, args.workers, settings.shutdown_timeout_seconds).run()
    if args.workers > 1:  # no SO_REUSEPORT: uvicorn's own supervisor
        uvicorn.run(workers=args.workers, **options)
        return 0
    return 0 if serve(uvicorn.Config(**options)) else STARTUP_FAILURE


def _pages_ready(settings: Settings) -> bool:
    """The hosted pages' templates and catalogues parse (checked before any worker starts), and
    where to sign in."""
    if not settings.ui:
        return True
    from authgate.security.origins import origin_of
    from authgate.ui.templating import Pages, TemplatesError

    try:
        Pages.build(settings)
    except TemplatesError as exc:
        print(f"authgate: configuration error: {exc.variable}: {exc}", file=sys.stderr)
        return False
    print(f"authgate: sign in at {origin_of(settings.public_url)}/ui/login", file=sys.stderr, flush=True)
    return True


def _serving_settings(host: str, port: int) -> Settings:
    """The settings, with the public URL taken from the address served when none is configured
    (so `authgate serve --port 8765` mails links and issues tokens for :8765, not :8000). Set
    in the environment, so that every worker reads the same."""
    settings = _settings()
    if "public_url" in settings.model_fields_set:
        return settings
    # A loopback or wildcard address is named `localhost`: browsers refuse passkeys on IP addresses.
    local = {"0.0.0.0", "", "::", "[::]", *LOOPBACK_HOSTS, "[::1]"}  # noqa: S104 (naming it, not binding)
    shown = "localhost" if host in local else host
    if ":" in shown:  # an IPv6 address
        shown = f"[{shown.strip('[]')}]"
    os.environ["AUTHGATE_PUBLIC_URL"] = f"http://{shown}:{port}"
    print(f"authgate: AUTHGATE_PUBLIC_URL is not set; using http://{shown}:{port}", file=sys.stderr, flush=True)
    return _settings()


def _stopped_on_request(_signum: int, _frame: FrameType | None) -> None:
    """uvicorn raises the SIGTERM it handled again once it has shut down gracefully; by then
    the stop that was asked for is done, so the process exits 0 rather than "killed"."""
    raise SystemExit(0)


def cmd_openapi(_args: argparse.Namespace) -> int:
    from authgate.app import create_app

    print(json.dumps(create_app(_settings()).openapi(), indent=2))
    return 0


async def _create_user(settings: Settings, args: argparse.Namespace) -> str:
    from authgate.errors import AuthError
    from authgate.runtime.root import Runtime
    from authgate.services.admin import users as users_admin

    runtime = Runtime.build(settings)
    try:
        await _migrate(settings)
        user = await users_admin.create_user(
            runtime,
            email=args.email,
            password=args.password,
            username=args.username,
            name=args.name,
            role=args.role,
            verified=args.verified,
        )
        return user.id
    except AuthError as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail or exc.title
        print(f"authgate: {exc.code.value}: {details}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        await runtime.close()


def cmd_user_create(args: argparse.Namespace) -> int:
    if args.password_stdin:
        args.password = sys.stdin.readline().rstrip("\r\n")
    if not args.password:
        print("authgate: give the password with --password-stdin (or --password)", file=sys.stderr)
        return 2
    user_id = asyncio.run(_create_user(_settings(), args))
    print(user_id)
    return 0


def cmd_user_import(args: argparse.Namespace) -> int:
    """Exit 0: every row valid (and created); 1: some rows failed, the others were imported;
    2: the file or the report cannot be opened (nothing imported)."""
    from authgate.cli_import import import_file

    settings = _settings()
    try:
        source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
        report = open(args.report, "wb") if args.report else sys.stderr.buffer
    except OSError as exc:
        print(f"authgate: cannot open {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_migrate(settings))
        return asyncio.run(import_file(settings, source, dry_run=args.dry_run, report=report, as_json=args.json))
    except KeyboardInterrupt:
        print("authgate: interrupted; the rows written so far stay: run the same file again to finish", file=sys.stderr)
        return 130
    finally:
        for stream in (source, report):
            if stream not in (sys.stdin.buffer, sys.stderr.buffer):
                stream.close()


def cmd_user_stats(args: argparse.Namespace) -> int:
    from authgate.cli_import import print_stats

    settings = _settings()
    asyncio.run(_migrate(settings))
    return asyncio.run(print_stats(settings, as_json=args.json))


async def _verify_audit(settings: Settings) -> int:
    from authgate.runtime.root import Runtime
    from authgate.services import audit

    runtime = Runtime.build(settings)
    try:
        verdict = await audit.verify(runtime)
    finally:
        await runtime.close()
    if not verdict.ok:
        print(f"authgate: audit trail broken: {verdict.problem}", file=sys.stderr)
        return 1
    print(
        f"authgate: audit trail intact: {verdict.entries} entries ({verdict.uncovered} written before the chain "
        f"began), head {verdict.head_seq} {verdict.head_hash}"
    )
    return 0


def cmd_audit_verify(_args: argparse.Namespace) -> int:
    return asyncio.run(_verify_audit(_settings()))


async def _service(settings: Settings, args: argparse.Namespace) -> int:
    """`authgate service create|list|revoke`: the credentials of services that introspect
    tokens (docs/introspection.md)."""
    from authgate.errors import AuthError
    from authgate.runtime.root import Runtime
    from authgate.services import service_credentials
    from authgate.wire import iso_z

    runtime = Runtime.build(settings)
    try:
        if args.service_command == "create":
            await _migrate(settings)
            credential, secret = await service_credentials.create(runtime, name=args.name)
            print(f"client_id:     {credential.id}")
            print(f"client_secret: {secret}")
            print("The secret will not be shown again (authgate keeps only its digest): store it now.")
        elif args.service_command == "list":
            rows = [("ID", "NAME", "CREATED", "LAST USED", "REVOKED")]
            for c in await service_credentials.list_credentials(runtime):
                last = iso_z(c.last_used_at) if c.last_used_at else "never"
                rows.append((c.id, c.name, iso_z(c.created_at), last, iso_z(c.revoked_at) if c.revoked_at else "-"))
            _print_table(rows)
        else:
            credential, revoked = await service_credentials.revoke(runtime, credential_id=args.id)
            state = "revoked" if revoked else "was already revoked"
            print(f"authgate: service credential {credential.id} ({credential.name}) {state}")
    except AuthError as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail or exc.title
        print(f"authgate: {exc.code.value}: {details}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    return asyncio.run(_service(_settings(), args))


def _scopes_given(text: str | None) -> list[str] | None:
    """`--scopes`: names separated by spaces or commas; None when not given (the default)."""
    if text is None:
        return None
    return [name for name in text.replace(",", " ").split() if name]


def _print_secret(client_id: str, secret: str | None) -> None:
    """The lines scripts read (`client_id:`, `client_secret:`), then the warning."""
    print(f"client_id:     {client_id}")
    if secret is not None:
        print(f"client_secret: {secret}")
        print("The secret will not be shown again (authgate keeps only its digest): store it now.")


async def _client(settings: Settings, args: argparse.Namespace) -> int:
    """`authgate client create|list|revoke|secret`: the apps and services that ask authgate for
    tokens (docs/oidc-provider.md). A value refused exits 2, any other refusal 1."""
    from authgate.errors import AuthError, ErrorCode
    from authgate.runtime.root import Runtime
    from authgate.services.oauth2 import clients
    from authgate.wire import iso_z

    await _migrate(settings)
    runtime = Runtime.build(settings)
    try:
        if args.client_command == "create":
            new = clients.NewClient(
                name=args.name,
                redirect_uris=args.redirect_uri,
                post_logout_redirect_uris=args.post_logout_redirect_uri,
                public=args.public,
                first_party=args.first_party,
                scopes=_scopes_given(args.scopes),
                client_credentials=args.client_credentials,
            )
            created = await clients.create(runtime, new, caller=None)
            _print_secret(created.client.id, created.secret)
            if created.secret is None:
                print("A public client has no secret: it proves each sign-in with PKCE.")
        elif args.client_command == "list":
            rows = [("ID", "NAME", "KIND", "FIRST-PARTY", "SCOPES", "CREATED", "LAST USED", "REVOKED")]
            for c in await clients.list_clients(runtime):
                last = iso_z(c.last_used_at) if c.last_used_at else "never"
                ended = iso_z(c.revoked_at) if c.revoked_at else "-"
                scopes = ",".join(clients.scopes_of(c)) or "-"
                first = "yes" if c.first_party else "no"
                rows.append((c.id, c.name, c.kind, first, scopes, iso_z(c.created_at), last, ended))
            _print_table(rows)
        elif args.client_command == "revoke":
            client, revoked = await clients.revoke(runtime, client_id=args.id)
            state = "revoked" if revoked else "was already revoked"
            print(f"authgate: client {client.id} ({client.name}) {state}")
        else:
            client, secret = await clients.rotate_secret(runtime, client_id=args.id)
            _print_secret(client.id, secret)
            print("The previous secret no longer works.")
    except AuthError as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail or exc.title
        print(f"authgate: {exc.code.value}: {details}", file=sys.stderr)
        return 2 if exc.code == ErrorCode.VALIDATION_FAILED else 1
    finally:
        await runtime.close()
    return 0


def cmd_client(args: argparse.Namespace) -> int:
    return asyncio.run(_client(_settings(), args))


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    """`authgate keys rotate|list`: the keys that sign access tokens (docs/signing-keys.md)."""
    from authgate.runtime import key_ring as keys
    from authgate.runtime.root import Runtime
    from authgate.storage.repositories import signing_keys
    from authgate.wire import iso_z

    if settings.jwt_algorithm == "HS256":
        print(
            "authgate: under HS256 the signing key is JWT_SECRET; set AUTHGATE_JWT_ALGORITHM to EdDSA, "
            "ES256 or RS256 to keep keys in the database",
            file=sys.stderr,
        )
        return 2
    if getattr(args, "grace", None) is not None and args.grace < 0:
        print("authgate: --grace must be 0 or more seconds", file=sys.stderr)
        return 2
    await _migrate(settings)
    runtime = Runtime.build(settings)
    try:
        if args.keys_command == "rotate":
            kid = await keys.rotate(runtime, reason="command", grace_seconds=args.grace)
            grace = settings.key_grace_seconds if args.grace is None else args.grace
            print(f"authgate: new signing key {kid}; the previous one verifies for {grace} more seconds")
        else:
            rows = [("KID", "ALG", "CREATED", "STATE")]
            async with runtime.read() as db:
                for key in await signing_keys.all_keys(db):
                    ends = key.expires_at
                    state = "signing" if ends is None else f"verifies until {iso_z(ends)}"
                    rows.append((key.kid, key.algorithm, iso_z(key.created_at), state))
            _print_table(rows)
    finally:
        await runtime.close()
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    return asyncio.run(_keys(_settings(), args))


def cmd_mail(args: argparse.Namespace) -> int:
    from authgate.delivery.mailview import show

    try:
        asyncio.run(show(_settings(), limit=args.limit, follow=args.follow, body=args.body))
    except KeyboardInterrupt:
        pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="authgate", description="Self-hosted authentication service.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=cmd_migrate)

    mail = sub.add_parser("mail", help="show the outbox: each message's recipient, kind, and link or code")
    mail.add_argument("--limit", type=int, default=10, help="how many of the newest messages (default 10)")
    mail.add_argument("-f", "--follow", action="store_true", help="keep printing new messages as they are queued")
    mail.add_argument("--body", action="store_true", help="print each message's subject and text too")
    mail.set_defaults(func=cmd_mail)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(func=cmd_openapi)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create a user (e.g. the first admin)")
    create.add_argument("--email", required=True)
    secret = create.add_mutually_exclusive_group()
    secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    secret.add_argument("--password", help="the password (visible to other local users in the process list)")
    create.add_argument("--username")
    create.add_argument("--name")
    create.add_argument("--role", default="user", help="a role's name: user (default), admin, or one you created")
    create.add_argument("--verified", action="store_true", help="mark the email as verified")
    create.set_defaults(func=cmd_user_create)
    imported = user.add_parser(
        "import", help="import users with their password hashes from a JSON Lines file (docs/guides/importing.md)"
    )
    imported.add_argument("file", help="one JSON object per line; - reads standard input")
    imported.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    imported.add_argument("--report", help="write each failed row's line, code and reason here (default: stderr)")
    imported.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    imported.set_defaults(func=cmd_user_import)
    stats = user.add_parser("stats", help="accounts per password scheme, and how many await a rehash")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(func=cmd_user_stats)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="check that no audit entry was changed, removed or reordered")
    verify.set_defaults(func=cmd_audit_verify)

    service = sub.add_parser("service", help="credentials of services that introspect tokens").add_subparsers(
        dest="service_command", required=True
    )
    service_create = service.add_parser("create", help="create a credential; its secret is printed this once")
    service_create.add_argument("--name", required=True, help="which service it is for (at most 100 characters)")
    service_create.set_defaults(func=cmd_service)
    service.add_parser("list", help="list credentials: id, name, created, last used, revoked").set_defaults(
        func=cmd_service
    )
    service_revoke = service.add_parser("revoke", help="revoke a credential: refused from its next request on")
    service_revoke.add_argument("id", help="the credential's client id")
    service_revoke.set_defaults(func=cmd_service)

    client = sub.add_parser("client", help="apps and services that ask authgate for tokens").add_subparsers(
        dest="client_command", required=True
    )
    client_create = client.add_parser(
        "create",
        help="create a client: an app with --redirect-uri (public with --public), else a service; "
        "its secret is printed this once",
    )
    client_create.add_argument("--name", required=True, help="what users and operators see (at most 100 characters)")
    client_create.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="where the app receives its sign-ins (repeat for more, at most 20); none makes a service client",
    )
    client_create.add_argument(
        "--public", action="store_true", help="an app that cannot keep a secret (SPA, mobile, CLI): no secret, PKCE"
    )
    client_create.add_argument(
        "--first-party", action="store_true", help="your own app: its users are never asked for consent"
    )
    client_create.add_argument(
        "--scopes",
        metavar="SCOPES",
        help='the most it may ask for, separated by spaces or commas (default: "openid profile email" for apps, '
        "none for services)",
    )
    client_create.add_argument(
        "--post-logout-redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="where the app may send users after signing out (repeat for more)",
    )
    client_create.add_argument(
        "--client-credentials",
        action="store_true",
        help="a confidential app may also get tokens of its own (the client_credentials grant)",
    )
    client_create.set_defaults(func=cmd_client)
    client.add_parser(
        "list", help="list clients: id, name, kind, first party, scopes, created, last used, revoked"
    ).set_defaults(func=cmd_client)
    client_revoke = client.add_parser(
        "revoke", help="revoke a client: refused from its next request on; its grants end"
    )
    client_revoke.add_argument("id", help="the client id")
    client_revoke.set_defaults(func=cmd_client)
    client_secret = client.add_parser("secret", help="make a new secret, printed this once; the old one stops at once")
    client_secret.add_argument("id", help="the client id")
    client_secret.set_defaults(func=cmd_client)

    keys = sub.add_parser("keys", help="the keys that sign access tokens").add_subparsers(
        dest="keys_command", required=True
    )
    rotate = keys.add_parser("rotate", help="make a new signing key; the current one verifies for the grace period")
    rotate.add_argument(
        "--grace", type=int, help="seconds the old key still verifies (default AUTHGATE_KEY_GRACE_SECONDS; 0: at once)"
    )
    rotate.set_defaults(func=cmd_keys)
    keys.add_parser("list", help="list the keys: kid, algorithm, created, state").set_defaults(func=cmd_keys)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    raise SystemExit(args.func(args))
