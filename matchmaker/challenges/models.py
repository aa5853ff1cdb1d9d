"""The bottleneck list, applications to take a problem on, agencies, brokers' credentials and
contract registrations."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import Field, Organization, User
from matchmaker.core.db import Base, in_list, utcnow
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Contract, Suggestion

ENTRY_STATUSES = ("screening", "listed", "returned", "merged", "removed")
ENTRY_STATUS_LABELS = {
    "screening": "筛选中",
    "listed": "已入选",
    "returned": "已退回",
    "merged": "已合并",
    "removed": "已移出",
}
CATEGORIES = ("关键材料", "核心零部件", "关键装备", "工艺技术", "检验检测", "软件与算法", "其他")
DIFFICULTIES = ("一般", "较难", "重大")
REMOVAL_REASONS = {"solved": "已解决", "withdrawn": "需求撤回", "expired": "已过截止日期"}
APPLICATION_STATUSES = ("submitted", "chosen", "not_chosen", "withdrawn")
APPLICATION_STATUS_LABELS = {
    "submitted": "已提交",
    "chosen": "已入选揭榜",
    "not_chosen": "未入选",
    "withdrawn": "已撤回",
}
REVIEW_CRITERIA = ("技术先进性", "方案可行性", "团队实力", "经费合理性")
AGENCY_LEVELS = {
    "national": "国家级示范机构",
    "provincial": "省级示范机构",
    "municipal": "市级示范机构",
}
ENTRY_EVENT_KINDS = ("accepted", "returned", "merged", "classified", "removed", "restored")


class BottleneckEntry(Base):
    """A flagged need under screening or on the list; `number` is its place in the year's list."""

    __tablename__ = "bottleneck_entries"
    __table_args__ = (
        CheckConstraint(in_list("status", ENTRY_STATUSES), name="status"),
        CheckConstraint(
            "difficulty IS NULL OR " + in_list("difficulty", DIFFICULTIES), name="difficulty"
        ),
        CheckConstraint(
            "expected_funding IS NULL OR expected_funding >= 0", name="expected_funding"
        ),
        UniqueConstraint("year", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="screening")
    year: Mapped[int]
    number: Mapped[int | None]
    field_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    category: Mapped[str] = mapped_column(String(20), default="")
    difficulty: Mapped[str | None] = mapped_column(String(6))
    expected_funding: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("bottleneck_entries.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    need: Mapped[Need] = relationship()
    field: Mapped[Field | None] = relationship()
    merged_into: Mapped["BottleneckEntry | None"] = relationship(remote_side=[id])
    applications: Mapped[list["ChallengeApplication"]] = relationship(
        back_populates="entry", order_by="ChallengeApplication.id"
    )


class BottleneckEvent(Base):
    """What happened to an entry, and why: the list's history."""

    __tablename__ = "bottleneck_events"
    __table_args__ = (CheckConstraint(in_list("kind", ENTRY_EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("bottleneck_entries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class BottleneckListVersion(Base):
    """A published version of the year's list (年度清单): a snapshot of its rows."""

    __tablename__ = "bottleneck_list_versions"
    __table_args__ = (UniqueConstraint("year", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    version: Mapped[int]
    rows: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


challenge_partners_columns = ("application_id", "organization_id")


class ChallengeApplication(Base):
    """An institute's (or a team's) offer to solve a listed problem (揭榜)."""

    __tablename__ = "challenge_applications"
    __table_args__ = (
        CheckConstraint(in_list("status", APPLICATION_STATUSES), name="status"),
        CheckConstraint("budget_asked >= 0", name="budget_asked"),
        UniqueConstraint("entry_id", "lead_org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bottleneck_entries.id", ondelete="CASCADE"))
    lead_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approach: Mapped[str] = mapped_column(Text)
    team: Mapped[str] = mapped_column(Text, default="")
    milestones: Mapped[list] = mapped_column(JSON, default=list)  # [{"title", "due"}]
    budget_asked: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 万元
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("suggestions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    entry: Mapped[BottleneckEntry] = relationship(back_populates="applications")
    lead_org: Mapped[Organization] = relationship()
    suggestion: Mapped[Suggestion | None] = relationship()
    partners: Mapped[list["ApplicationPartner"]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationPartner.organization_id"
    )
    achievements: Mapped[list["ApplicationAchievement"]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationAchievement.position"
    )
    reviews: Mapped[list["ExpertReview"]] = relationship(order_by="ExpertReview.id")
    attachments: Mapped[list["ApplicationAttachment"]] = relationship(
        order_by="ApplicationAttachment.id"
    )
    stages: Mapped[list["SupportStage"]] = relationship(order_by="SupportStage.id")


class ApplicationPartner(Base):
    """Another organization of the team; the lead is on the application itself."""

    __tablename__ = "challenge_partners"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)

    organization: Mapped[Organization] = relationship()


class ApplicationAchievement(Base):
    """An achievement the team brings; the first becomes the pair's achievement when chosen."""

    __tablename__ = "challenge_achievements"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="CASCADE"), primary_key=True
    )
    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)

    achievement: Mapped[Achievement] = relationship()


class ApplicationAttachment(Base):
    """A file of the application, kept in the database so every web machine can serve it."""

    __tablename__ = "challenge_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExpertReview(Base):
    """One expert's scores (0-10 per criterion) and comments on an application."""

    __tablename__ = "challenge_reviews"
    __table_args__ = (CheckConstraint("total >= 0", name="total"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="CASCADE"), index=True
    )
    expert_name: Mapped[str] = mapped_column(String(60))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[float]
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupportStage(Base):
    """A stage of the support granted to a chosen application, released on a date."""

    __tablename__ = "challenge_support_stages"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 万元
    released_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyProfile(Base):
    """A technology-transfer agency's recognition: its level and the date it was recognised."""

    __tablename__ = "agency_profiles"
    __table_args__ = (CheckConstraint(in_list("level", AGENCY_LEVELS), name="level"),)

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(12))
    recognized_on: Mapped[date | None]

    organization: Mapped[Organization] = relationship()


class BrokerProfile(Base):
    """A broker's agency and certificate (技术经纪人证书)."""

    __tablename__ = "broker_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    certificate_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    certified_on: Mapped[date | None]

    user: Mapped[User] = relationship()
    agency: Mapped[Organization | None] = relationship()


class BrokerTraining(Base):
    """A course a broker took."""

    __tablename__ = "broker_trainings"
    __table_args__ = (CheckConstraint("hours > 0", name="hours"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(120))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    taken_on: Mapped[date]


class CertificationTarget(Base):
    """How many brokers staff aim to certify in a year (the report's "300 by year end")."""

    __tablename__ = "certification_targets"

    year: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[int]


class ContractRegistration(Base):
    """技术合同认定登记 of a contract recorded on a pair."""

    __tablename__ = "contract_registrations"
    __table_args__ = (
        CheckConstraint("total_amount >= 0", name="total_amount"),
        CheckConstraint(
            "technical_amount >= 0 AND technical_amount <= total_amount", name="technical_amount"
        ),
        CheckConstraint("term_end IS NULL OR term_end >= term_start", name="term"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), unique=True
    )
    registration_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    seller_name: Mapped[str] = mapped_column(String(120))
    seller_credit_code: Mapped[str] = mapped_column(String(18), default="")
    seller_region: Mapped[str] = mapped_column(String(60), default="")
    buyer_name: Mapped[str] = mapped_column(String(120))
    buyer_credit_code: Mapped[str] = mapped_column(String(18), default="")
    buyer_region: Mapped[str] = mapped_column(String(60), default="")
    term_start: Mapped[date]
    term_end: Mapped[date | None]
    total_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 万元
    non_technical: Mapped[list] = mapped_column(JSON, default=list)  # [{"item", "amount"}]
    technical_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 技术交易额, 万元
    expected_investment: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    expected_output: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    registered_on: Mapped[date]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship()
