"""Achievements (科技成果) that institutes offer and needs (技术需求) that companies post."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from matchmaker.accounts.models import Field, Organization, User
from matchmaker.core.db import Base, in_list, utcnow

LISTING_STATUSES = ("draft", "pending", "returned", "published", "rejected", "closed")
# Maturity stages as the bureau names them, with the TRL each one is stored as.
MATURITY_TRL = {"研发": 3, "小试": 4, "中试": 6, "批量生产": 8, "产业化": 9}
TRANSFER_MODES = ("转让", "许可", "作价入股", "合作开发", "技术服务")

# A listing's declared fields; `position` keeps the order the poster chose (0 = first).
achievement_fields = Table(
    "achievement_fields",
    Base.metadata,
    Column("achievement_id", ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0, server_default="0"),
)
need_fields = Table(
    "need_fields",
    Base.metadata,
    Column("need_id", ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0, server_default="0"),
)


class AchievementField(Base):
    """One declared field of an achievement, at its place in the poster's order."""

    __table__ = achievement_fields
    field = relationship(Field, lazy="joined", innerjoin=True)


class NeedField(Base):
    """One declared field of a need, at its place in the poster's order."""

    __table__ = need_fields
    field = relationship(Field, lazy="joined", innerjoin=True)


def _field_links(link_class, table: Table):
    """The ordered link rows of a listing; `fields` proxies them as a plain list of Field."""
    return relationship(
        link_class,
        order_by=table.c.position,
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ListingColumns:
    """Columns that achievements and needs share."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id a listing had in the file or system it was imported from.
    external_ref: Mapped[str | None] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # Parts only parties of a recommended pair, brokers and staff see (see services/confidential).
    confidential: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    hide_organization: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    review_note: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every edit of matchable text, so cached tokens know when they are stale.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    tokens: Mapped[list | None] = mapped_column(JSON)
    tokens_revision: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organizations.id"), index=True)

    @declared_attr
    def organization(cls) -> Mapped[Organization]:
        return relationship()

    @property
    def primary_field(self) -> Field | None:
        """The field the poster chose first."""
        return self.fields[0] if self.fields else None

    @property
    def field_names(self) -> list[str]:
        """Declared field names in the poster's order."""
        return [f.name for f in self.fields]


class Achievement(ListingColumns, Base):
    __tablename__ = "achievements"
    __table_args__ = (
        # Lists show published listings newest first.
        Index("ix_achievements_status_published_at", "status", "published_at", "id"),
        CheckConstraint(in_list("status", LISTING_STATUSES), name="status"),
        CheckConstraint(
            "maturity IS NULL OR " + in_list("maturity", MATURITY_TRL), name="maturity"
        ),
        CheckConstraint("trl IS NULL OR (trl BETWEEN 1 AND 9)", name="trl"),
        CheckConstraint("price_min IS NULL OR price_min >= 0", name="price_min"),
        CheckConstraint(
            "price_min IS NULL OR price_max IS NULL OR price_min <= price_max", name="price_range"
        ),
    )

    summary: Mapped[str] = mapped_column(String(500), default="")
    maturity: Mapped[str | None] = mapped_column(String(10))
    trl: Mapped[int | None]
    patents: Mapped[list] = mapped_column(JSON, default=list)
    transfer_modes: Mapped[list] = mapped_column(JSON, default=list)
    price_min: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    price_max: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    field_links: Mapped[list[AchievementField]] = _field_links(AchievementField, achievement_fields)
    fields = association_proxy(
        "field_links", "field", creator=lambda field: AchievementField(field=field)
    )


class Need(ListingColumns, Base):
    __tablename__ = "needs"
    __table_args__ = (
        Index("ix_needs_status_published_at", "status", "published_at", "id"),
        CheckConstraint(in_list("status", LISTING_STATUSES), name="status"),
        CheckConstraint("budget_min IS NULL OR budget_min >= 0", name="budget_min"),
        CheckConstraint(
            "budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max",
            name="budget_range",
        ),
    )

    budget_min: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    budget_max: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    deadline: Mapped[date | None]
    cooperation_modes: Mapped[list] = mapped_column(JSON, default=list)
    is_bottleneck: Mapped[bool] = mapped_column(Boolean, default=False)

    field_links: Mapped[list[NeedField]] = _field_links(NeedField, need_fields)
    fields = association_proxy("field_links", "field", creator=lambda field: NeedField(field=field))


def _terms_table(name: str, listing_table: str) -> Table:
    # An inverted index of search terms (jieba tokens plus their dictionary sub-words), so
    # full-text search is an indexed equality lookup on SQLite and PostgreSQL alike.
    return Table(
        name,
        Base.metadata,
        Column(
            "listing_id",
            ForeignKey(f"{listing_table}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("term", String(64), primary_key=True),
        # 3 title, 2 keyword, 1 description: the best place a term occurs, for ranking hits.
        Column("weight", Integer, nullable=False, default=1),
        # Copies of the listing's status == "published" and published_at (services/listing_index
        # keeps them in step), so a catalogue search counts and pages its hits in this index
        # alone instead of joining every hit to its listing.
        Column("published", Boolean, nullable=False, default=False, server_default="0"),
        Column("published_at", DateTime),
        # Covering: a query term's hits and weights come from the index alone.
        Index(f"ix_{name}_term_listing", "term", "listing_id", "weight"),
        # A published term's hits in the catalogue's order (weight, newest): a page is a range.
        Index(
            f"ix_{name}_published",
            "term",
            "weight",
            "published_at",
            "listing_id",
            postgresql_where=text("published"),
            sqlite_where=text("published = 1"),
        ),
    )


achievement_terms = _terms_table("achievement_terms", "achievements")
need_terms = _terms_table("need_terms", "needs")

LISTING_KINDS = ("achievement", "need")


class ListingEvent(Base):
    """History of a listing: creation, edits, submissions, review decisions; never rewritten."""

    __tablename__ = "listing_events"
    __table_args__ = (
        CheckConstraint(in_list("kind", LISTING_KINDS), name="kind"),
        Index("ix_listing_events_kind_listing", "kind", "listing_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    listing_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()
