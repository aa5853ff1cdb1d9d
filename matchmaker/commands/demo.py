"""`flask demo ...`: the demo data that `make run` loads, and bulk loading of listing files."""

import click
from flask.cli import AppGroup

from matchmaker.services import demo as service

demo = AppGroup("demo", help="Load demo data and listing files.")


@demo.command("seed")
def seed() -> None:
    """Load the field taxonomy, demo accounts and demo listings (idempotent)."""
    service.seed_accounts()
    click.echo("demo accounts ready")
