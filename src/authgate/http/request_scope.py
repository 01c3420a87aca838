"""Who is calling from where: the client address and User-Agent of each request, held for the
request's whole life (scope.py, entered by the edge: http/middleware.py) so that every audit
entry carries them."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from starlette.requests import HTTPConnection

from authgate.scope import RequestContext
from authgate.security.text import strip_control_characters


def _is_trusted(host: str, trusted: list[str]) -> bool:
    try:
        addr = ip_address(host)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if addr in ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: HTTPConnection, trusted: list[str]) -> str | None:
    """The peer's address; `X-Forwarded-For` is believed only from a trusted proxy, and then
    read from the right, skipping trusted hops, so a client cannot choose its own address."""
    peer = request.client.host if request.client else None
    if peer is None or not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def context_of(request: HTTPConnection, trusted: list[str]) -> RequestContext:
    """The User-Agent is stored with sessions and audit entries: control characters are
    dropped (a NUL is a 500 on PostgreSQL; escapes could dress up a log line)."""
    agent = strip_control_characters(request.headers.get("user-agent") or "")[:512]
    return RequestContext(ip_address=client_ip(request, trusted), user_agent=agent or None)
