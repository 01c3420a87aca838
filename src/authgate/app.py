"""create_app(settings) -> FastAPI: every router under every prefix, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.exceptions import ExceptionMiddleware

from authgate import __version__, ui
from authgate.http import openapi, problems
from authgate.http.cors import CrossOrigin
from authgate.http.middleware import Edge, first_segment
from authgate.http.routes import FORM_PATHS, LARGER_BODIES, PREFIXED, ROOT, api_docs, oauth2
from authgate.observability.logging import configure as configure_logging
from authgate.observability.metrics import Metrics
from authgate.runtime.root import Runtime
from authgate.settings import Settings, load_settings

# FastAPI's own OpenTelemetry hooks look for a configured provider on every request; authgate
# reports through its Prometheus metrics and logs instead.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_json)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.build(settings, metrics)
        app.state.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="authgate",
        version=__version__,
        summary="Self-hosted authentication: accounts, login, tokens and sessions.",
        lifespan=lifespan,
        openapi_url=None,  # served by routes/api_docs.py, with its own page, or not at all
        docs_url=None,
        redoc_url=None,
        telemetry=NO_TELEMETRY,
    )
    app.state.settings = settings
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    problems.install(app, settings)
    ui.install(app, settings)
    pages = ui.routers(settings)
    for router in ROOT:
        _serve(app, router, prefix="")
    if settings.api_docs:
        _serve(app, api_docs.router, prefix="")
    # The OpenID provider's protocol endpoints, at the issuer's root only: whole paths, since
    # `/oauth2/clients` and `/.well-known/jwks.json` beside them are served under every prefix.
    provider = [oauth2.router, *ui.provider_routers(settings)] if settings.oidc_provider else []
    root_only = frozenset(
        first_segment(getattr(route, "path", ""))
        for router in (*ROOT, api_docs.router, *pages)
        for route in router.routes
    ) | frozenset(getattr(route, "path", "") for router in provider for route in router.routes)
    for router in provider:
        _serve(app, router, prefix="")
    primary = settings.route_prefixes[0]
    for router in PREFIXED:
        _serve(app, router, prefix=primary)
    for router in pages:  # after the API's routes: the hot paths are matched without trying these
        _serve(app, router, prefix="")
    cors = CrossOrigin(settings.cors_origins) if settings.cors_origins else None
    # The whole stack: the edge (http/middleware.py), then Starlette's exception handlers and
    # FastAPI's exit stack around the router. FastAPI's default would add three layers of its
    # own outside (the edge already answers unexpected errors) and one per middleware class.
    app.build_middleware_stack = lambda: Edge(  # type: ignore[method-assign]
        ExceptionMiddleware(AsyncExitStackMiddleware(app.router), handlers=dict(app.exception_handlers), debug=False),
        metrics=metrics,
        hsts=settings.cookie_secure,
        primary=primary,
        aliases=settings.route_prefixes,
        root_only=root_only,
        max_body_bytes=settings.max_body_bytes,
        # The provider's form paths even while it is off: there they are a 404, not a 415.
        form_paths=(*FORM_PATHS, *oauth2.FORM_PATHS, *ui.PROVIDER_FORM_PATHS),
        form_prefixes=("/ui/",),  # the pages read their own bodies; while off, every /ui/ path is a 404
        larger_bodies=LARGER_BODIES,
        trusted_proxies=settings.trusted_proxies,
        cors=cors,
    )
    return app


def _serve(app: FastAPI, router: APIRouter, *, prefix: str) -> None:
    """`router`'s routes, under `prefix`. Without one (the routers at the root, and the rest
    under the default first prefix, `/`), the routes join the app's own list as they are: an
    included router is matched lazily, its routes walked once to choose it and again inside it,
    and every router before it once more, which cost `/profile` a seventh of its Python calls.
    Including adds nothing else here: the routers declare no dependencies and no lifespan."""
    if prefix:
        app.include_router(router, prefix=prefix)
        return
    if router.dependencies or router.on_startup or router.on_shutdown:
        raise RuntimeError("a router with dependencies or lifespan handlers must be included, not merged")
    app.router.routes.extend(router.routes)
