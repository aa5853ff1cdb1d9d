"""A pooled connection the database dropped while it sat idle is replaced before a page uses it."""

import time

import psycopg
import pytest
import sqlalchemy as sa

from config import TestConfig
from matchmaker.app import create_app
from matchmaker.core.extensions import db
from tests.conftest import using_postgres

pytestmark = pytest.mark.skipif(
    not using_postgres(), reason="drops a server connection: needs PostgreSQL"
)


def _app(tmp_path, idle_seconds: float):
    config = TestConfig()
    config.INSTANCE_DIR = tmp_path
    config.DATABASE_PING_IDLE_SECONDS = idle_seconds
    return create_app(config)


def _drop_pooled_connection(app) -> None:
    """Return the app's one connection to the pool, then end it from the server's side."""
    with app.app_context():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)


def test_a_connection_dropped_while_idle_is_replaced_and_the_page_answers(tmp_path):
    app = _app(tmp_path, idle_seconds=0.1)
    try:
        _drop_pooled_connection(app)
        response = app.test_client().get("/healthz")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["database"] == "ok"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_connection_used_within_the_idle_window_is_not_pinged(tmp_path):
    # The price of skipping the ping on busy connections: one dropped in that window fails once.
    app = _app(tmp_path, idle_seconds=3600)
    try:
        _drop_pooled_connection(app)
        assert app.test_client().get("/healthz").status_code == 503
        assert app.test_client().get("/healthz").status_code == 200  # the pool replaced it
    finally:
        with app.app_context():
            db.engine.dispose()
