"""The security headers of every response of the site, defined once: CloudFront's response headers
policy is built from these values (infra/constructs/edge.py), and the local gateway sends the same
headers on every HTTP response (local_stack/gateway.py), so a page that breaks under the deployed
policy breaks on the laptop too."""

from __future__ import annotations

HSTS_MAX_AGE_S = 730 * 24 * 3600
FRAME_OPTION = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def content_security_policy(cognito_origin: str, websocket_scheme: str = "wss:") -> str:
    """The site's CSP. `cognito_origin` is where the browser signs in; the socket is same-origin but
    'self' does not cover `wss:` (or `ws:` on the laptop's plain HTTP) in every browser."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {websocket_scheme} {cognito_origin}".rstrip(),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def response_headers(csp: str) -> dict[str, str]:
    """The headers, as CloudFront's policy writes them on a response."""
    return {
        "Content-Security-Policy": csp,
        "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE_S}; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTION,
        "Referrer-Policy": REFERRER_POLICY,
        "X-XSS-Protection": "1; mode=block",
    }
