"""Who is joining: the viewer's address as CloudFront reports it, never the edge's.

Deployed, the HTTP API sits behind CloudFront, so `requestContext.http.sourceIp` is the address of
the CloudFront edge that forwarded the request: every viewer near that edge shares it. CloudFront
reports the viewer itself in `CloudFront-Viewer-Address: <ip>:<port>` (IPv6 unbracketed, e.g.
`2001:db8::1:46532`: the port follows the last colon), which the `/api/*` behaviour's origin request
policy forwards (infra/constructs/edge.py). Only a request without that header (a direct call to the
execute-api URL) is keyed on `sourceIp`, which is then the caller's own address.

`X-Forwarded-For` is never read: its leading entries are whatever the viewer sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from aws_lambda_powertools import Logger

logger = Logger(child=True)

VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"
IPV6_VIEWER_PREFIX = 64
"""An IPv6 viewer is keyed on its /64: one host (or home, or school) is usually given a whole /64 and
may use any address in it, so a script could otherwise take a fresh counter for every request."""

Address = IPv4Address | IPv6Address


def parse_viewer_address(value: str) -> Address | None:
    """`ip:port` as CloudFront writes it (also `[v6]:port`, or an address without a port); None when
    the value is no address at all. An IPv4-mapped IPv6 address is the IPv4 address."""
    text = value.strip()
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        candidates = [host] if closed and (not rest or (rest[0] == ":" and rest[1:].isdigit())) else []
    else:
        host, colon, port = text.rpartition(":")
        # With a port first: `2001:db8::1:443` is also a valid address by itself, but CloudFront
        # always appends the port.
        candidates = [host, text] if colon and port.isdigit() else [text]
    for candidate in candidates:
        address = _address(candidate)
        if address is not None:
            return address
    return None


def _address(text: str) -> Address | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def viewer_key(address: Address) -> str:
    """The counter key of an address: the IPv4 address itself, or the IPv6 address's /64."""
    if isinstance(address, IPv6Address):
        return str(ip_network(f"{address}/{IPV6_VIEWER_PREFIX}", strict=False))
    return str(address)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        folded = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == folded), None)
    return value


def viewer_of(headers: Mapping[str, str] | None, source_ip: str | None) -> str | None:
    """The join limits' key for a request: the viewer address CloudFront reports, else `sourceIp`
    (a direct call to the API Gateway URL); None only when neither names an address."""
    reported = _header(headers or {}, VIEWER_ADDRESS_HEADER)
    if reported is not None:
        address = parse_viewer_address(reported)
        if address is not None:
            return viewer_key(address)
        # CloudFront always writes a valid one: this request did not come through it.
        logger.warning("unparseable CloudFront-Viewer-Address; keying the join on sourceIp")
    source = (source_ip or "").strip()
    if not source:
        return None
    address = _address(source)  # a bare address, never with a port
    return viewer_key(address) if address is not None else source
