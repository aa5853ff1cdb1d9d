"""Worker entry: `celery -A workers.celery_app worker`."""

from celery.signals import worker_process_init

from matchmaker.app import create_app
from matchmaker.extensions import db

flask_app = create_app()
celery_app = flask_app.extensions["celery"]


@worker_process_init.connect
def _fresh_process(**_):
    # A forked child must not reuse the parent's database connections.
    with flask_app.app_context():
        db.engine.dispose(close=False)
