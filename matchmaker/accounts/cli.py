"""`flask users ...`: create users and API tokens from scripts."""

import click
from flask.cli import AppGroup

from matchmaker.accounts import users as accounts
from matchmaker.accounts.models import ROLES
from matchmaker.core.cli import fail
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db

users = AppGroup("users", help="Manage users and API tokens.")


@users.command("create")
@click.option("--login", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--org", "org_name", default=None, help="Organization name; created if new.")
def create(login: str, password: str, role: str, org_name: str | None) -> None:
    """Create a user."""
    try:
        user = accounts.create_user_cli(login, password, role, org_name)
    except ServiceError as e:
        db.session.rollback()
        fail(e.message)
    click.echo(f"created user {user.login} (id {user.id}, role {user.role})")


@users.command("token")
@click.argument("login")
def token(login: str) -> None:
    """Print a new bearer token for LOGIN."""
    try:
        click.echo(accounts.issue_token(login))
    except ServiceError as e:
        fail(e.message)


@users.command("revoke-tokens")
@click.argument("login")
def revoke(login: str) -> None:
    """Revoke every token of LOGIN."""
    try:
        click.echo(f"revoked {accounts.revoke_tokens(login)} token(s)")
    except ServiceError as e:
        fail(e.message)
