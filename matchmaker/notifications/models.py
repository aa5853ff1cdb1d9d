"""What the workers share through the database: stored model files and sent digests."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.core.db import Base, in_list, utcnow

DIGEST_RECIPIENTS = ("user", "organization")


class StoredModel(Base):
    """A fitted model file kept in the database, so a worker on any machine can load it."""

    __tablename__ = "stored_models"

    version: Mapped[str] = mapped_column(String(120), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    parts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredModelPart(Base):
    """One slice of a stored model file (bytea on PostgreSQL, a BLOB on SQLite)."""

    __tablename__ = "stored_model_parts"

    version: Mapped[str] = mapped_column(
        ForeignKey("stored_models.version", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Digest(Base):
    """One digest e-mail per recipient and period: the unique row is what stops a second send."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("recipient_kind", "recipient_id", "period"),
        CheckConstraint(in_list("recipient_kind", DIGEST_RECIPIENTS), name="recipient_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(20))
    emails: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
