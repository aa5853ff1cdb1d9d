"""Organizations, people, their credentials and the field taxonomy."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.core.db import Base, in_list, utcnow

ORG_KINDS = ("university", "institute", "enterprise", "agency")
ORG_STATUSES = ("pending", "approved", "rejected")
ROLES = ("institute", "enterprise", "broker", "staff")
# A person's standing in their organization: joining needs the organization administrator's or
# staff's approval; until then the account sees only public pages.
MEMBERSHIPS = ("approved", "pending", "rejected")

broker_fields = Table(
    "broker_fields",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True),
)


class Field(Base):
    """A technology field (技术领域); sub-fields point at their parent."""

    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    position: Mapped[int] = mapped_column(default=0)
    # A retired field is kept for history but offered nowhere (its listings were moved on).
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    parent: Mapped["Field | None"] = relationship(remote_side=[id])


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(in_list("kind", ORG_KINDS), name="kind"),
        CheckConstraint(in_list("status", ORG_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    region: Mapped[str] = mapped_column(String(60), default="")
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="organization")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(in_list("role", ROLES), name="role"),
        CheckConstraint(in_list("membership", MEMBERSHIPS), name="membership"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    membership: Mapped[str] = mapped_column(
        String(20), default="approved", server_default="approved"
    )
    # Approves or rejects people asking to join the organization (set for its founder).
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Part of the login id in the session and remember cookie: bumping it ends every session.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    # "New since my last visit" compares against the visit before the current one.
    previous_seen_at: Mapped[datetime | None]

    organization: Mapped[Organization | None] = relationship(back_populates="users")
    fields: Mapped[list[Field]] = relationship(secondary=broker_fields)

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_member(self) -> bool:
        """Whether the account may act at all: not waiting for (or refused) approval to join."""
        return self.membership == "approved"

    def get_id(self) -> str:
        # "id:version": a session or remember cookie from before the last bump stops working.
        return f"{self.id}:{self.session_version}"


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
