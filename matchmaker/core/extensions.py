"""Flask extensions, created unbound and bound to the app in create_app()."""

from celery import Celery, Task
from flask import Flask, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from matchmaker.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
# Storage (Redis, so limits hold across web processes) comes from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)


class FlaskTask(Task):
    """A Celery task that runs inside the Flask app its Celery app was made for."""

    def __call__(self, *args, **kwargs):
        # A task called inside a test's app context shares that context's session.
        if has_app_context():
            return self.run(*args, **kwargs)
        with self.app.flask_app.app_context():
            return self.run(*args, **kwargs)


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks run inside this Flask app's context."""
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.flask_app = app
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
