"""Password hashing: argon2id, with the cheap cost tests configure, and a dummy check that makes an
unknown login cost as long as a wrong password."""

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_DEFAULT_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


def _hasher() -> PasswordHasher:
    # Tests configure a cheap argon2 cost (PASSWORD_HASH_PARAMS); production keeps the default.
    if has_app_context():
        params = current_app.config.get("PASSWORD_HASH_PARAMS")
        if params:
            return _hasher_for(tuple(sorted(params.items())))
    return _DEFAULT_HASHER


@lru_cache(maxsize=4)
def _hasher_for(params: tuple) -> PasswordHasher:
    return PasswordHasher(**dict(params))


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Check a password against its stored hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_hex(16))


def spend_a_password_check(password: str) -> None:
    """Verify against a throwaway hash, so an unknown login costs as long as a wrong password."""
    hasher = _hasher()
    try:
        hasher.verify(_dummy_hash(hasher), password)
    except (VerificationError, InvalidHashError):
        pass
