"""Listings: achievements and needs — posting, edit history, staff review, search and
suggestions of words, confidential parts, spreadsheet/JSONL import and export, bulk load, the
field taxonomy (administration).

May use: notifications, accounts, core. Sends listing_published / listing_withdrawn.
Listing pages and exports read a listing's pairs through core.listing_pairs (pairs registers it).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the listing, review and taxonomy pages, their API routes and CLI."""
    from matchmaker.listings import api, cli, file_views, review_views, taxonomy_views, views  # noqa: F401

    app.register_blueprint(views.bp)  # file_views adds its routes to views.bp
    app.register_blueprint(review_views.bp)
    app.register_blueprint(taxonomy_views.bp)
    app.cli.add_command(cli.listings)
