"""Worker entry: `celery -A workers.celery_app worker`."""

import logging

from celery.signals import worker_process_init, worker_ready

from matchmaker.app import create_app
from matchmaker.core.extensions import db

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
log = logging.getLogger(__name__)


@worker_process_init.connect
def _fresh_process(**_):
    # A forked child must not reuse the parent's database connections.
    with flask_app.app_context():
        db.engine.dispose(close=False)
        _warm_up()


def _warm_up() -> None:
    """Load jieba and the current model once per process, not on the first task."""
    import sklearn.feature_extraction.text  # noqa: F401  (first fit should not pay the import)

    from matchmaker.matching.tokenizer import get_tokenizer
    from matchmaker.runs import model_store

    get_tokenizer()
    try:
        model_store.current_matcher()
    except Exception as exc:  # noqa: BLE001 - a missing model is loaded later, by version
        log.warning("current model not loaded at start: %s", exc)
    finally:
        db.session.remove()


@worker_ready.connect
def _reconcile_on_start(sender=None, **_):
    # Runs left behind by a worker that died are picked up as soon as a worker is back.
    try:
        sender.app.send_task("workers.tasks.reconcile")
    except Exception as exc:  # noqa: BLE001
        log.warning("could not queue the reconciler at start: %s", exc)
