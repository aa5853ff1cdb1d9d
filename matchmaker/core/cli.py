"""Flask CLI command groups: thin adapters over the services."""

import json
import sys

import click

from matchmaker.core.exceptions import ServiceError


def fail(message: str, code: int = 2):
    """Stop a command with one line on stderr, no traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def echo_json(payload: dict) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, default=str))


__all__ = ["ServiceError", "echo_json", "fail"]
