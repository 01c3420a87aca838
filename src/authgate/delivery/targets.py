"""Where a webhook may be sent: the URL's shape, and the addresses its host resolves to.

The host is resolved when the webhook is saved and again before every delivery, and the
request then goes to the address that was checked (the Host header and TLS name stay the
host's), so a name that answers a public address once and a private one later (DNS
rebinding) cannot steer a delivery inside the network. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import socket

import httpx

from authgate.delivery.base import DeliveryError
from authgate.security.network import is_public_address

URL_MAX = 2048


class TargetRefused(DeliveryError):
    """The URL may not be called; the message says why, for the one who configured it."""


def parse_target(url: str) -> httpx.URL:
    """An absolute http(s) URL without credentials or fragment, or TargetRefused."""
    if len(url) > URL_MAX:
        raise TargetRefused(f"The URL is longer than {URL_MAX} characters.")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise TargetRefused("This is not a valid URL.") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise TargetRefused("Give an absolute http:// or https:// URL.")
    if parsed.userinfo:
        raise TargetRefused("Credentials in the URL are not allowed; put a token in the path or query instead.")
    if parsed.fragment:
        raise TargetRefused("A fragment (#…) is never sent; leave it out.")
    return parsed


async def resolve(target: httpx.URL, *, allow_private: bool) -> list[str]:
    """The addresses to call `target` on; TargetRefused if the name does not resolve, or if
    any address it resolves to is not a public one (unless private targets are allowed)."""
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(target.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused("The host name does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused("The host name does not resolve.")
    if not allow_private and not all(is_public_address(address) for address in addresses):
        raise TargetRefused(
            "The host resolves to a loopback, private or link-local address; such targets are refused "
            "unless AUTHGATE_WEBHOOK_ALLOW_PRIVATE=true."
        )
    return addresses


def pinned(target: httpx.URL, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL with its host replaced by the checked `address`, the Host header, and the TLS
    server name, so that the connection goes where the check said and nowhere else."""
    host_header = target.netloc.decode("ascii")
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return target.copy_with(host=address), {"Host": host_header}, extensions
