"""One request to a hosted page: who is signed in, in which language, and how the answer is made.

A page reads the browser's session from the same `accessToken` and `refreshToken` cookies the
API sets. An expired access token is refreshed (rotating the refresh token, grace window
included) when the browser says the load is its own (`Sec-Fetch-Site: same-origin` or `none`,
or no fetch metadata); on a navigation from another site the session is read through the
current refresh token without rotating it, so another site's link never rotates a token. A
session that has ended (revoked, the account disabled or deleted) is a sign-out: the cookies go.

Every answer carries the pages' headers (`HEADERS` and the CSP of `policy`), and a page that
shows a form sets the CSRF cookie when the browser has none (ui/csrf.py); a sign-in or a
sign-out, the noticed end of a session included, gives it a new value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from authgate.core.principal import Principal
from authgate.errors import AuthError, ErrorCode
from authgate.http.cookies import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    clear_auth_cookies,
    csrf_cookie_name,
    new_csrf_value,
    set_auth_cookies,
    set_csrf_cookie,
)
from authgate.http.deps import runtime_of
from authgate.http.request_scope import context_of
from authgate.runtime.root import Runtime
from authgate.scope import RequestContext, act_as
from authgate.scope import current as current_scope
from authgate.security.capabilities import has_caps
from authgate.security.origins import origin_of
from authgate.services import refresh as refresh_service
from authgate.settings import Settings
from authgate.signin.sessions import LoginResult, authenticate
from authgate.ui import captcha, csrf, return_to
from authgate.ui.forms import FormErrors
from authgate.ui.locale import LANG_COOKIE, LANG_COOKIE_SECONDS, language_links, match, negotiate
from authgate.ui.messages import notice_text
from authgate.ui.templating import Pages

HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
OWN_LOADS = frozenset({"same-origin", "none"})
ADMIN_CAPS = ("users:read", "audit:read", "webhooks:manage")  # any one opens the admin console


class PageAnswer(Exception):
    """Raised with the response a page must give now (a redirect to sign in, the 403 page)."""

    def __init__(self, response: Response) -> None:
        super().__init__("page answer")
        self.response = response


def form_action_sources(settings: Settings, extra: tuple[str, ...] = ()) -> str:
    """`'self'` and every origin (or app scheme) a form's redirect chain may end at."""
    sources = ["'self'"]
    for entry in (*settings.redirect_targets, *extra):
        origin = origin_of(entry)
        source = origin if origin is not None else entry.split(":", 1)[0] + ":"
        if source not in sources and source != origin_of(settings.public_url):
            sources.append(source)
    return " ".join(sources)


def policy(settings: Settings, extra_form_targets: tuple[str, ...] = ()) -> str:
    """The pages' CSP; with a hosted CAPTCHA, its widget's script and frame origins too."""
    hosted = captcha.widget(settings)
    scripts = " ".join(("'self'", *(hosted.scripts if hosted else ())))
    frames = f"frame-src {' '.join(hosted.frames)}; " if hosted and hosted.frames else ""
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"{frames}form-action {form_action_sources(settings, extra_form_targets)}; frame-ancestors 'none'; "
        "base-uri 'none'"
    )


def with_headers(response: Response, settings: Settings, extra_form_targets: tuple[str, ...] = ()) -> Response:
    for name, value in HEADERS.items():
        response.headers[name] = value
    response.headers["Content-Security-Policy"] = policy(settings, extra_form_targets)
    return response


def path_with_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_url(back: str | None) -> str:
    return "/ui/login" + (f"?{urlencode({'return_to': back})}" if back else "")


@dataclass
class Page:
    request: Request
    rt: Runtime
    pages: Pages
    locale: str
    viewer: Principal | None
    csrf_cookie: str | None
    cookie_writes: list[Callable[[Response], None]] = field(default_factory=list)
    form_targets: tuple[str, ...] = ()

    @property
    def settings(self) -> Settings:
        return self.rt.settings

    @property
    def ctx(self) -> RequestContext:
        scope = current_scope()
        return scope.context if scope is not None else context_of(self.request, self.settings.trusted_proxies)

    # --- what the page is asked -------------------------------------------------------------

    def query(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value if value else None

    def return_to(self, value: str | None = None) -> str | None:
        """`value` (or the query's `return_to`), if it may be followed."""
        return return_to.allowed(self.settings, value if value is not None else self.query("return_to"))

    # --- CSRF ----------------------------------------------------------------------------------

    def csrf_token(self) -> str:
        if self.csrf_cookie is None:
            self.new_csrf_cookie()
        assert self.csrf_cookie is not None
        session_id = self.viewer.session_id if self.viewer is not None else None
        return csrf.token_for(self.settings, self.csrf_cookie, session_id)

    def new_csrf_cookie(self) -> None:
        """A sign-in or sign-out: forms of the earlier state stop working."""
        value = new_csrf_value()
        self.csrf_cookie = value
        self.cookie_writes.append(lambda response: set_csrf_cookie(response, self.settings, value))

    def speak_for(self, ui_locales: str | None) -> None:
        """A page of an OpenID request's flow speaks the request's `ui_locales` (read from the
        pending request, so every page of the flow does, not only the first sign-in URL)."""
        if ui_locales:
            self.locale = choose_locale(self.request, self.pages.locales, ui_locales)

    def may_administer(self) -> bool:
        assert self.viewer is not None
        caps = self.rt.roles.caps(self.viewer.user.role)
        return any(has_caps(caps, cap) for cap in ADMIN_CAPS)

    # --- answers ---------------------------------------------------------------------------------

    def render(
        self,
        name: str,
        *,
        status: int = 200,
        errors: FormErrors | None = None,
        values: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        notice = notice_text(self.query("notice"))
        query = self.request.query_params.multi_items()
        if self.request.method != "GET" and context.get("return_to") and "return_to" not in self.request.query_params:
            query.append(("return_to", context["return_to"]))  # a form shown again keeps where it leads
        body = self.pages.render(
            self.locale,
            name,
            {
                "product": self.settings.ui_product_name,
                "locale": self.locale,
                "viewer": self.viewer,
                "csrf_token": self.csrf_token(),
                "errors": errors or FormErrors(),
                "values": values or {},
                "notice": notice,
                "static": static_url,
                "captcha": captcha.widget(self.settings),
                "captcha_challenge": captcha.challenge_url(self.settings),
                "captcha_site_key": self.settings.captcha_site_key or "",
                "has_logo": self.pages.has_logo,
                "locales": self.pages.locales,
                "language_names": self.pages.language_names,
                "language_links": language_links(query, self.pages.locales),
                "admin_link": self.settings.ui_admin and self.viewer is not None and self.may_administer(),
                "provider_on": self.settings.oidc_provider,
                "ui_on": self.settings.ui,  # off: only the provider's pages are served
                **context,
            },
        )
        return self.finish(HTMLResponse(body, status_code=status))

    def redirect(self, url: str, *, notice: str | None = None) -> Response:
        if notice is not None:
            url += ("&" if "?" in url else "?") + urlencode({"notice": notice})
        return self.finish(Response(status_code=303, headers={"Location": url}))

    def finish(self, response: Response) -> Response:
        for write in self.cookie_writes:
            write(response)
        self.cookie_writes.clear()
        return with_headers(response, self.settings, self.form_targets)

    def set_tokens(self, result: LoginResult) -> None:
        access, refresh = result.access_token, result.refresh_token
        self.cookie_writes.append(
            lambda response: set_auth_cookies(response, self.settings, access_token=access, refresh_token=refresh)
        )

    def sign_in(self, result: LoginResult) -> None:
        """The cookies of a new session, and a new CSRF cookie value."""
        self.set_tokens(result)
        self.new_csrf_cookie()

    def sign_out(self) -> None:
        """Clear the session's cookies and take a new CSRF cookie value; the answer is rendered
        for no one (a page shown now has no account links, and forms for a signed-out browser)."""
        self.cookie_writes.append(lambda response: clear_auth_cookies(response, self.settings))
        self.new_csrf_cookie()
        self.viewer = None

    def to_login(self) -> PageAnswer:
        """Send a browser that must sign in to the sign-in page, and back here after."""
        back = path_with_query(self.request) if self.request.method == "GET" else self.request.url.path
        return PageAnswer(self.redirect(login_url(back)))


def static_url(name: str) -> str:
    return f"/ui/static/{quote(name)}"


async def _viewer(
    request: Request, rt: Runtime, *, rotate: bool = True
) -> tuple[Principal | None, bool, LoginResult | None]:
    """(the signed-in caller or None, whether a session held by this browser has ended, a refresh made).
    Without `rotate` (the OpenID provider's authorization endpoint) a refresh token is only read."""
    access = request.cookies.get(ACCESS_COOKIE)
    refresh = request.cookies.get(REFRESH_COOKIE)
    if access:
        try:
            return await authenticate(rt, access), False, None
        except AuthError as exc:
            if exc.code != ErrorCode.TOKEN_EXPIRED:
                return None, True, None
    if not refresh:
        return None, False, None
    site = request.headers.get("sec-fetch-site")
    if not rotate or (site is not None and site.strip().lower() not in OWN_LOADS):  # another site's navigation:
        return await refresh_service.session_of(rt, token=refresh), False, None  # read, never rotated
    try:
        result = await refresh_service.refresh(rt, token=refresh)
        return await authenticate(rt, result.access_token), False, result
    except AuthError:
        return None, True, None


async def open_page(request: Request, *, rotate: bool = True) -> Page:
    rt = runtime_of(request)
    pages: Pages = request.app.state.pages
    settings = rt.settings
    locale = choose_locale(request, pages.locales, request.query_params.get("ui_locales"))
    viewer, ended, refreshed = await _viewer(request, rt, rotate=rotate)
    if viewer is not None:
        act_as(viewer.user_id)
    page = Page(
        request=request,
        rt=rt,
        pages=pages,
        locale=locale,
        viewer=viewer,
        csrf_cookie=request.cookies.get(csrf_cookie_name(settings)) or None,
    )
    if refreshed is not None:
        page.set_tokens(refreshed)  # the same session: its forms stay good
    elif ended:
        page.sign_out()  # another device or an admin ended it: a sign-out here too
    lang = request.query_params.get("lang")
    if lang and (chosen := match(lang, pages.locales)) is not None:
        page.cookie_writes.append(lambda response: set_cookie_lang(response, settings, chosen))
    return page


def choose_locale(request: Request, available: tuple[str, ...], ui_locales: str | None) -> str:
    """`?lang=`, else an OpenID request's `ui_locales` (preferred first), else the cookie, else
    `Accept-Language`."""
    wanted = [request.query_params.get("lang") or "", *(ui_locales or "").split(" ")]
    return negotiate(
        query=next((tag for tag in wanted if match(tag, available) is not None), None),
        cookie=request.cookies.get(LANG_COOKIE),
        header=request.headers.get("accept-language"),
        available=available,
    )


def set_cookie_lang(response: Response, settings: Settings, locale: str) -> None:
    attributes = [f"{LANG_COOKIE}={locale}", f"Max-Age={LANG_COOKIE_SECONDS}", "Path=/", "SameSite=lax"]
    if settings.cookie_secure:
        attributes.append("Secure")
    response.raw_headers.append((b"set-cookie", "; ".join(attributes).encode("latin-1")))
