"""API tokens: issued once, kept only as a hash, revoked per user, resolved to their user."""

import hashlib
import secrets
from functools import cache

from sqlalchemy import bindparam, select

from matchmaker.accounts.lookup import find_user
from matchmaker.accounts.models import ApiToken, User
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import NotFound
from matchmaker.core.extensions import db


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(login: str) -> str:
    """Create an API token for a user and return it; only its hash is kept."""
    user = find_user(login)
    if user is None:
        raise NotFound(f"用户不存在：{login}", field="login")
    token = "mm_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_digest(token), prefix=token[:10]))
    db.session.commit()
    return token


def revoke_tokens(login: str) -> int:
    """Revoke every live token of a user; return how many were revoked."""
    user = find_user(login)
    if user is None:
        raise NotFound(f"用户不存在：{login}", field="login")
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
    db.session.commit()
    return len(tokens)


@cache
def _user_of_token():
    # Built once: on every API request, building the statement cost more CPU than running it.
    return (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
    )


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, if it is live."""
    # The user in the same query as the token: every API request asks this.
    user = db.session.scalar(_user_of_token(), {"digest": _token_digest(token)})
    if user is None or not user.is_active or not user.is_member:
        return None
    return user
