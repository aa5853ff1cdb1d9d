"""Demo data: the Shenyang platform for `make run` (shenyang.json), demo pairs walked through
every state, the challenges' demo entries, and the `demo` CLI (seed, load).

May use: every other domain.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the demo CLI."""
    from matchmaker.demo import cli

    app.cli.add_command(cli.demo)
