"""Fairs (对接会): set-up, registrations and participants, must-meet requests, the plan
(assignment and timetable), meetings at the fair and their outcomes, agendas.

May use: runs, pairs, listings, notifications, accounts, core, matching.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the fair pages, API routes and CLI."""
    from matchmaker.fairs import api, cli, views  # noqa: F401  (api: routes)

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.fairs)
