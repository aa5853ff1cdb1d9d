"""Declarative base with a naming convention, so constraints get the same names everywhere."""

from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time in UTC, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def in_list(column: str, values) -> str:
    """SQL for a check constraint that keeps a column inside a fixed set of values."""
    return f"{column} IN ({_quoted(values)})"


def not_in_list(column: str, values) -> str:
    """SQL for a check constraint's condition that a column is outside a fixed set of values."""
    return f"{column} NOT IN ({_quoted(values)})"


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)
