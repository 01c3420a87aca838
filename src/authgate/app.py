"""create_app(settings) -> FastAPI: every router under every prefix, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from authgate import __version__
from authgate.http import openapi, problems
from authgate.http.cors import CrossOrigin
from authgate.http.middleware import (
    BodyGuard,
    PathGuard,
    PrefixAliases,
    RequestMetrics,
    SecurityHeaders,
    Unexpected,
    first_segment,
)
from authgate.http.request_scope import RequestScope
from authgate.http.routes import FORM_PATHS, PREFIXED, ROOT, api_docs
from authgate.observability.logging import configure as configure_logging
from authgate.observability.metrics import Metrics
from authgate.runtime.root import Runtime
from authgate.settings import Settings, load_settings


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
    )
    app.state.settings = settings
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    problems.install(app, settings)
    for router in ROOT:
        app.include_router(router)
    if settings.api_docs:
        app.include_router(api_docs.router)
    root_only = frozenset(
        first_segment(getattr(route, "path", "")) for router in (*ROOT, api_docs.router) for route in router.routes
    )
    primary = settings.route_prefixes[0]
    for router in PREFIXED:
        app.include_router(router, prefix=primary)
    app.add_middleware(RequestScope, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes, form_paths=FORM_PATHS)
    app.add_middleware(PathGuard)
    app.add_middleware(PrefixAliases, primary=primary, aliases=settings.route_prefixes, root_only=root_only)
    if settings.cors_origins:  # outside the guards: preflights and their problems get CORS headers
        app.add_middleware(CrossOrigin, origins=settings.cors_origins)
    app.add_middleware(Unexpected)  # outside every part that could raise; inside the two below
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app
