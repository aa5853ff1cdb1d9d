"""Shared fixtures: an app on a fresh database per test, a client, a CLI runner and builders.

With TEST_DATABASE_URL / TEST_REDIS_URL set the suite runs on those servers (PostgreSQL and
Redis in CI); without them it uses a SQLite file per test and the local Redis default.
"""

import os
import shutil
from itertools import count

import pytest
from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.engine import Engine
from werkzeug.routing.rules import Rule

from config import TestConfig
from matchmaker.accounts import users as accounts
from matchmaker.app import create_app
from matchmaker.core.db import Base
from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import ensure_fields, field_by_name

pytest_plugins = ["tests.browser", "tests.factories"]

PASSWORD = "correct-horse-42"
_serial = count(1)


def using_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def _memoize_url_rule_builders() -> None:
    """Compile each URL rule's builder once per session instead of once per test app.

    create_app binds ~660 rules, and Werkzeug turns each into two small functions through
    ast + compile(): about 0.2-0.4 s of every test's setup on a busy 2-core machine. The
    generated code depends only on the rule's text, its parsed trace and its defaults (the
    function reads the rule's converters through its `self` argument at call time), so rules
    that are equal on those share one function. Production apps are built once and keep
    Werkzeug's own path.
    """
    compile_builder = Rule._compile_builder
    built = {}

    def cached(self, append_unknown=True):
        key = (
            append_unknown,
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            tuple(sorted((k, type(v)) for k, v in self._converters.items())),
        )
        function = built.get(key)
        if function is None:
            function = built[key] = compile_builder(self, append_unknown)
        return function

    Rule._compile_builder = cached


_memoize_url_rule_builders()


@event.listens_for(Engine, "connect")
def _sqlite_without_fsync(dbapi_connection, connection_record) -> None:
    # The test databases are scratch files: skip the fsync of every commit (WAL, foreign keys
    # and the busy timeout set by the app stay as they are). Processes the tests start keep
    # the app's settings.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


@pytest.fixture(scope="session")
def _postgres_schema():
    """Create the schema once per session on PostgreSQL; tests then truncate."""
    if not using_postgres():
        yield None
        return
    app = create_app(TestConfig())
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    yield True


@pytest.fixture(scope="session")
def _sqlite_schema(tmp_path_factory):
    """On SQLite, one database file with the schema and the taxonomy, copied for each test.

    create_all on a fresh file costs about 0.5 s per test; copying the file costs 0.02 s.
    """
    if using_postgres():
        return None
    folder = tmp_path_factory.mktemp("schema")
    config = TestConfig()
    config.INSTANCE_DIR = folder
    config.MODEL_DIR = folder / "models"
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'schema.db'}"
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ensure_fields()
        db.session.remove()
        db.engine.dispose()  # the last connection checkpoints the WAL into the file
    path = folder / "schema.db"
    assert not path.with_name("schema.db-wal").exists(), "template WAL was not checkpointed"
    return path


@pytest.fixture
def app(tmp_path, _postgres_schema, _sqlite_schema):
    config = TestConfig()
    config.INSTANCE_DIR = tmp_path
    config.MODEL_DIR = tmp_path / "models"
    if not using_postgres():
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'test.db'}"
        shutil.copyfile(_sqlite_schema, tmp_path / "test.db")
    app = create_app(config)
    with app.app_context():
        ensure_fields()
        yield app
        db.session.rollback()
        db.session.remove()
        if using_postgres():
            _truncate_all()
        db.engine.dispose()


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def _demo_rows(tmp_path_factory, _postgres_schema, _sqlite_schema):
    """Every table's rows as `demo seed` leaves a fresh database, seeded once per session.

    Seeding takes 5-10 s (listings, 40 pairs walked through the pair services, two fairs);
    writing these rows back takes well under a second.
    """
    folder = tmp_path_factory.mktemp("demo")
    config = TestConfig()
    config.INSTANCE_DIR = folder
    config.MODEL_DIR = folder / "models"
    if not using_postgres():
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'demo.db'}"
        shutil.copyfile(_sqlite_schema, folder / "demo.db")
    app = create_app(config)
    with app.app_context():
        ensure_fields()
        result = app.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
        rows = {
            table: [dict(row) for row in db.session.execute(select(table)).mappings()]
            for table in Base.metadata.sorted_tables
        }
        db.session.remove()
        if using_postgres():
            _truncate_all()
        db.engine.dispose()
    return rows


@pytest.fixture
def demo_world(app, _demo_rows):
    """The test's database holds exactly what `demo seed` writes into a fresh one."""
    for table in reversed(Base.metadata.sorted_tables):
        db.session.execute(delete(table))
    for table, rows in _demo_rows.items():
        if rows:
            db.session.execute(insert(table), rows)
    if using_postgres():  # the next id of each table follows the copied rows, as after seeding
        for table in Base.metadata.sorted_tables:
            column = table.autoincrement_column
            if column is not None:
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f'COALESCE(MAX("{column.name}"), 0) + 1, false) FROM "{table.name}"'
                    )
                )
    db.session.commit()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_org(app):
    def build(**overrides):
        values = {"name": f"测试单位{next(_serial)}", "kind": "institute", "status": "approved"}
        values.update(overrides)
        org = accounts.create_organization(**values)
        db.session.commit()
        return org

    return build


@pytest.fixture
def make_user(app, make_org):
    def build(role="institute", org=None, **overrides):
        if org is None and role in ("institute", "enterprise"):
            org = make_org(kind=role)
        user = accounts.create_user(
            overrides.pop("login", f"{role}{next(_serial)}"),
            overrides.pop("password", PASSWORD),
            role,
            org,
            **overrides,
        )
        db.session.commit()
        return user

    return build


def _listing_values(overrides: dict, kind: str) -> dict:
    values = {
        "title": f"测试{kind}{next(_serial)}",
        "description": "",
        "keywords": [],
        "status": "published",
    }
    values.update(overrides)
    field_names = values.pop("fields", ["机器人与智能制造"])
    values["fields"] = [field_by_name(n, create=True) for n in field_names]
    return values


@pytest.fixture
def make_achievement(app, make_org):
    from matchmaker.listings.models import Achievement

    def build(**overrides):
        if "organization" not in overrides:
            overrides["organization"] = make_org(kind="institute")
        row = Achievement(**_listing_values(overrides, "成果"))
        db.session.add(row)
        db.session.commit()
        return row

    return build


@pytest.fixture
def make_need(app, make_org):
    from matchmaker.listings.models import Need

    def build(**overrides):
        if "organization" not in overrides:
            overrides["organization"] = make_org(kind="enterprise")
        row = Need(**_listing_values(overrides, "需求"))
        db.session.add(row)
        db.session.commit()
        return row

    return build


@pytest.fixture
def login(client):
    """Log a user in through the real login form."""

    def do(user, password=PASSWORD):
        response = client.post("/auth/login", data={"login": user.login, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do
