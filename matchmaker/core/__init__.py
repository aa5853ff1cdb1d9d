"""The platform's shared parts: extensions (db, migrate, login, csrf, limiter, Celery), the
declarative base and form tokens, service errors, signals, validators, paging, export writer,
charts, display filters and local time, safe redirects, security headers, error pages, the
JSON API blueprint and its OpenAPI document, CLI helpers, the base templates and the header's
menus, and the pool's idle-connection pings.

May use: nothing else in matchmaker (matching excepted, which is pure).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register security headers, error pages and, last, the JSON API blueprint."""
    from matchmaker.core import api, errors, nav, security_headers

    security_headers.init_app(app)
    nav.init_app(app)
    errors.register_error_handlers(app)
    api.init_app(app)
