"""Runs: matching runs (full rematch in chunks, reconcile, heartbeat), the incremental
match of a published or edited listing and its nightly catch-up, the engine's inputs and the
suggestions a run writes, the model store, vocabulary and synonyms, suggestion export.

May use: pairs, listings, notifications, accounts, core, matching.
Receives listing_published (queue an incremental match) and listing_withdrawn (retire the
listing's suggestions).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the run pages, API routes and CLI; receive listing events."""
    from matchmaker.core import signals
    from matchmaker.runs import api, cli, incremental, views  # noqa: F401  (api: routes)

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.matching)
    # weak=False: the receivers are module functions that must live as long as the app.
    signals.listing_published.connect(incremental.on_listing_published, weak=False)
    signals.listing_withdrawn.connect(incremental.on_listing_withdrawn, weak=False)
