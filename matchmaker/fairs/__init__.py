"""Fairs (对接会): set-up, registrations and participants, must-meet requests, the plan
(assignment and timetable), meetings at the fair and their outcomes, agendas.

May use: runs, pairs, listings, notifications, accounts, core, matching.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the fair pages, API routes and CLI."""
    # api and agenda_views add their routes to blueprints when imported.
    from matchmaker.fairs import agenda_views, api, cli, views  # noqa: F401

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.fairs)
