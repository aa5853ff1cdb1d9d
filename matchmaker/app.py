"""The application factory."""

import secrets
from importlib import import_module
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from config import Config
from matchmaker.core.extensions import celery_init_app, csrf, db, login, migrate


def create_app(config: object | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, blueprints and CLI commands."""
    app = Flask(__name__, template_folder="core/templates")
    app.config.from_object(config or Config())
    app.instance_path = str(app.config["INSTANCE_DIR"])
    # Ids beyond a 32-bit integer column cannot exist; answer 404 before the database overflows.
    app.url_map.converters["int"] = DatabaseIdConverter
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database that stopped answering fails /healthz and requests in seconds, not minutes.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"connect_timeout": 5, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _instance_secret(instance: Path) -> str:
    # A first run without SECRET_KEY keeps one random key in instance/, so sessions survive
    # restarts.
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login.init_app(app)
    celery_init_app(app)
    import matchmaker.registry  # noqa: F401  (every domain's tables on Base.metadata)
    from matchmaker.accounts import auth
    from matchmaker.core import security_headers

    security_headers.init_app(app)
    auth.init_login(app)


# One blueprint per feature, each a `bp` in its domain's views module.
BLUEPRINTS = (
    "dashboard.home_views",
    "accounts.views",
    "accounts.admin_views",
    "listings.views",
    "listings.review_views",
    "runs.views",
    "pairs.views",
    "fairs.views",
    "dashboard.views",
    "listings.taxonomy_views",
)
# Domain packages (matchmaker/<name>/) register their own blueprints, commands and receivers.
DOMAINS = ("challenges",)
# One click group per feature: (module, group name).
COMMAND_GROUPS = (
    ("accounts.cli", "users"),
    ("demo.cli", "demo"),
    ("listings.cli", "listings"),
    ("runs.cli", "matching"),
    ("pairs.cli", "pairs"),
    ("fairs.cli", "fairs"),
)


def register_blueprints(app: Flask) -> None:
    from matchmaker.core.api import bp as api_bp
    from matchmaker.core.errors import register_error_handlers

    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"matchmaker.{name}").bp)
    for name in DOMAINS:
        import_module(f"matchmaker.{name}").init_app(app)
    app.register_blueprint(api_bp)
    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    for module_name, name in COMMAND_GROUPS:
        module = import_module(f"matchmaker.{module_name}")
        app.cli.add_command(getattr(module, name))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # SQLite leaves foreign keys off and locks readers out without these.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
