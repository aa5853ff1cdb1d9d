"""`flask demo ...`: the demo data that `make run` loads, and bulk loading of listing files."""

import click
from flask.cli import AppGroup

from matchmaker.core.cli import echo_json, fail
from matchmaker.core.exceptions import ServiceError
from matchmaker.demo import seed as service
from matchmaker.listings.bulk_load import load_listing_files

demo = AppGroup("demo", help="Load demo data and listing files.")
LISTING_FILE = click.Path(exists=True, dir_okay=False)


@demo.command("seed")
def seed() -> None:
    """Load the field taxonomy, demo organizations, accounts and listings (idempotent)."""
    echo_json(service.seed())


@demo.command("load")
@click.option("--achievements", type=LISTING_FILE, help="JSON-lines file of achievements.")
@click.option("--needs", type=LISTING_FILE, help="JSON-lines file of needs.")
def load(achievements: str | None, needs: str | None) -> None:
    """Load listing files as published listings; print the counts as one JSON line.

    One listing a line: {"id", "title", "description", "keywords": [...], "fields": [...] or
    "field", "org"?}; "fields" (1-5, in the poster's order) wins over "field".
    A bad line stops the load before anything is written.
    """
    if not achievements and not needs:
        fail("give --achievements and/or --needs")
    try:
        counts = load_listing_files(achievements, needs)
    except ServiceError as e:
        fail(e.message)
    echo_json(counts)
