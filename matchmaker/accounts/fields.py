"""The field taxonomy as brokers and forms read it (listings manages it)."""

from functools import cache

from sqlalchemy import select

from matchmaker.accounts.models import Field
from matchmaker.core.extensions import db


def all_fields(include_retired: bool = False) -> list[Field]:
    stmt = select(Field).order_by(Field.position, Field.id)
    if not include_retired:
        stmt = stmt.where(Field.retired.is_(False))
    return list(db.session.scalars(stmt))


def field_choices() -> list:
    """(id, name) rows of the fields in use, in taxonomy order, for pick lists: plain rows, since
    building ORM objects for them cost most of a millisecond on every catalogue page."""
    return list(db.session.execute(_choices()))


@cache
def _choices():
    # Built once: on every catalogue page, building the statement cost more CPU than running it.
    return (
        select(Field.id, Field.name)
        .where(Field.retired.is_(False))
        .order_by(Field.position, Field.id)
    )
