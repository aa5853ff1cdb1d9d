"""Security headers on every response: CSP without inline script, no framing, no sniffing.

A few lines of after_request rather than Flask-Talisman: the policy is fixed, HTTPS is
terminated by the proxy (request.is_secure comes from ProxyFix when configured), and nothing
else of Talisman's (forced redirects, nonces) is wanted.
"""

from flask import Flask, request
from werkzeug.wrappers import Response

# Scripts and styles come only from our static files; style attributes set by those scripts
# (CSSOM) are allowed by CSP, style="" attributes in markup are not.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set the security headers a view did not set itself."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
