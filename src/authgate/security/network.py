"""Which network addresses an outgoing call (a webhook) may reach.

Only globally routable unicast addresses: loopback, private (RFC 1918, fc00::/7), link-local
(169.254/16 with the cloud metadata service, fe80::/10), shared (100.64/10), multicast,
unspecified and reserved ranges are all refused, and an IPv6 address that maps or embeds an
IPv4 one is judged by the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return bool(ip.is_global) and not ip.is_multicast
