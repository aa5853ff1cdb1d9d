"""One-time form tokens: every create form carries a fresh token, and a token is spent once.

The first POST with a token claims it (a committed row, unique on the token); a second POST with
the same token — the back button, a double click, a retried request — finds the row and is sent to
what the first one made instead of making it again. A submission that fails validation gives its
token back, so the corrected form can be sent.
"""

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.core.models import FormToken

KEEP = timedelta(days=2)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def claim(token: str, endpoint: str, user_id: int | None) -> FormToken | None:
    """Spend the token; None when it was new, else the row of the earlier submission."""
    db.session.rollback()  # start clean: the claim must commit on its own
    db.session.add(FormToken(token=token[:64], endpoint=endpoint[:80], user_id=user_id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(select(FormToken).where(FormToken.token == token[:64]))
    return None


def finish(token: str, result_url: str) -> None:
    """Record where the first submission led; later ones with this token go there."""
    row = db.session.scalar(select(FormToken).where(FormToken.token == token[:64]))
    if row is not None:
        row.result_url = result_url[:300]
        db.session.commit()


def release(token: str) -> None:
    """Give the token back after a refused submission, so the corrected form can be sent."""
    db.session.rollback()
    db.session.execute(delete(FormToken).where(FormToken.token == token[:64]))
    db.session.commit()


def prune() -> int:
    """Drop tokens older than KEEP (a resubmission after two days is a new submission)."""
    done = db.session.execute(delete(FormToken).where(FormToken.created_at < utcnow() - KEEP))
    db.session.commit()
    return done.rowcount or 0
