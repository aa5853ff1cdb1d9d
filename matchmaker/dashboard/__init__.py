"""Dashboard: the home page, the health checks, the staff and broker dashboard with
its figures and export, the dashboard API.

May use: challenges, fairs, runs, pairs, listings, notifications, accounts, core.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the home and dashboard pages and the dashboard API route."""
    from matchmaker.dashboard import api, home_views, views  # noqa: F401  (api: routes)

    app.register_blueprint(home_views.bp)
    app.register_blueprint(views.bp)
