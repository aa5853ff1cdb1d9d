"""Pairs: suggestions as pairs brokers work (state machine, answers, claims, notes),
their events, meetings (with .ics) and contracts, who may see or act on a pair, the broker's
queue and figures, what a pair's people are told (notices, reminders, digests).

May use: listings, notifications, accounts, core.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the workbench pages, pair API routes, pairs CLI and readers of a listing's pairs."""
    from matchmaker.core.listing_pairs import register

    # api and figure_views add their routes to blueprints when imported.
    from matchmaker.pairs import api, cli, figure_views, listing_pairs, views  # noqa: F401

    app.register_blueprint(views.bp)
    register(app, listing_pairs.READERS)
    app.cli.add_command(cli.pairs)
