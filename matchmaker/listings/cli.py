"""flask listings ...: maintenance of achievements and needs."""

import click

from matchmaker.core.cli import echo_json


@click.group()
def listings():
    """Achievements and needs."""


@listings.command("reindex")
def reindex():
    """Rebuild the search-term index of every listing from its current text."""
    from matchmaker.listings.posting import reindex_all

    echo_json({"reindexed": reindex_all()})
