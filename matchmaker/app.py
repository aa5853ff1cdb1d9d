"""The application factory."""

import secrets
from importlib import import_module
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from config import Config
from matchmaker.core.connections import lazy_description_cursor, ping_after_idle
from matchmaker.core.extensions import celery_init_app, csrf, db, login, migrate


def create_app(config: object | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, then every domain's blueprints and CLI."""
    app = Flask(__name__, template_folder="core/templates")
    app.config.from_object(config or Config())
    app.instance_path = str(app.config["INSTANCE_DIR"])
    # Ids beyond a 32-bit integer column cannot exist; answer 404 before the database overflows.
    app.url_map.converters["int"] = DatabaseIdConverter
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database that stopped answering fails /healthz and requests in seconds, not minutes.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {
            "connect_timeout": 5,
            "cursor_factory": lazy_description_cursor(),
            **options.get("connect_args", {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    register_extensions(app)
    register_domains(app)
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
    with app.app_context():  # creates no connection
        for engine in db.engines.values():
            ping_after_idle(engine, app.config["DATABASE_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login.init_app(app)
    celery_init_app(app)
    import matchmaker.registry  # noqa: F401  (every domain's tables on Base.metadata)


# The domains in dependency order: each may use the ones before it, never one after it
# (tests/test_architecture.py holds the tree to this). core comes first and is set up last,
# so the shared JSON API blueprint is registered once every domain has added its routes.
DOMAINS = (
    "accounts",
    "notifications",
    "listings",
    "pairs",
    "runs",
    "fairs",
    "challenges",
    "dashboard",
    "demo",
)


def register_domains(app: Flask) -> None:
    """Each domain's init_app registers its blueprints, CLI commands and signal receivers."""
    for name in DOMAINS:
        import_module(f"matchmaker.{name}").init_app(app)
    import_module("matchmaker.core").init_app(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # SQLite leaves foreign keys off and locks readers out without these.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
