"""Accounts: organizations, users, roles, API tokens, sign-in, sessions and passwords,
membership of organizations, the field list brokers cover, user administration.

May use: core.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register sign-in, the auth and admin pages, the token check and the users CLI."""
    from matchmaker.accounts import admin_views, api, auth, cli, views  # noqa: F401  (api: routes)

    auth.init_login(app)
    app.extensions["token_authenticated"] = auth.is_token_authenticated
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.cli.add_command(cli.users)
