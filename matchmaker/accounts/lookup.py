"""Finding a user by the login they typed, in the one form logins are compared in."""

from sqlalchemy import func, select

from matchmaker.accounts.models import User
from matchmaker.accounts.passwords import normalise
from matchmaker.core.extensions import db


def login_key(login: str) -> str:
    """The one form logins are compared and throttled in: "PE_weak " and "pe_weak" are one."""
    return normalise(login or "")


def find_user(login: str) -> User | None:
    """The user a typed login names, however it is spaced, cased or full-width."""
    key = login_key(login)
    if not key:
        return None
    return db.session.scalar(select(User).where(func.lower(User.login) == key))
