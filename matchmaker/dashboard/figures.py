"""The bureau's figures, live: the platform as a whole or one fair; by field, kind and month.

Definitions (the dashboard and its export show exactly these):
- achievements / needs: published listings (for a fair: its registered listings);
  bottleneck needs: those of them flagged 卡脖子.
- institutions / companies: organizations of kind university or institute / enterprise with at
  least one of those achievements / needs.
- suggested: pairs between those listings (active suggestions, plus pairs brokers worked on).
- recommended, met, intentions, contracts: pairs whose state has reached that stage
  (recommended = recommended or any later state, declined included: it was recommended first).
  For a fair, only pairs that had a meeting there; "meetings held" also counts held meetings.
- contract value: sum of the contracts' amounts (万元), shown in 亿元 from 1 亿 up.
- agencies / brokers active: brokers who acted on a pair (an audit event or assignment), and the
  agencies they belong to.
"""

from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select

from matchmaker.accounts.models import ORG_KINDS, Field, Organization, User
from matchmaker.core.display import money  # noqa: F401  (re-exported)
from matchmaker.core.extensions import db
from matchmaker.fairs.models import Fair, FairRegistration
from matchmaker.listings.models import Achievement, Need, achievement_fields, need_fields
from matchmaker.pairs.models import Contract, Meeting, PairEvent, Suggestion
from matchmaker.pairs.states import PairState, reached

# A declined pair was recommended too: the funnel counts it at the broker's step.
RECOMMENDED_ON = (*reached(PairState.RECOMMENDED), PairState.DECLINED)
MET_ON = reached(PairState.MET)
INTENTION_ON = reached(PairState.INTENTION)
KIND_LABELS = {
    "university": "高校",
    "institute": "科研院所",
    "enterprise": "企业",
    "agency": "技术转移机构",
}
FUNNEL = (
    ("suggested", "系统推荐配对"),
    ("recommended", "经纪人推荐"),
    ("met", "洽谈"),
    ("intentions", "合作意向"),
    ("contracts", "签约"),
)
MONTHS = 12


def _scope(fair_id: int | None):
    """Select statements for the ids of the listings and pairs in scope."""
    if fair_id is None:
        ach_ids = select(Achievement.id).where(Achievement.status == "published")
        need_ids = select(Need.id).where(Need.status == "published")
        pair_ids = select(Suggestion.id).where(
            or_(Suggestion.active.is_(True), Suggestion.state != PairState.SUGGESTED)
        )
        worked = pair_ids
    else:
        ach_ids = select(FairRegistration.achievement_id).where(
            FairRegistration.fair_id == fair_id, FairRegistration.achievement_id.is_not(None)
        )
        need_ids = select(FairRegistration.need_id).where(
            FairRegistration.fair_id == fair_id, FairRegistration.need_id.is_not(None)
        )
        pair_ids = select(Suggestion.id).where(
            Suggestion.need_id.in_(need_ids),
            Suggestion.achievement_id.in_(ach_ids),
            or_(Suggestion.active.is_(True), Suggestion.state != PairState.SUGGESTED),
        )
        worked = select(Meeting.suggestion_id).where(Meeting.fair_id == fair_id)
    return ach_ids, need_ids, pair_ids, worked


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _states(worked, states) -> int:
    return _count(
        select(Suggestion.id).where(Suggestion.id.in_(worked), Suggestion.state.in_(states))
    )


def totals(fair_id: int | None = None) -> dict:
    """The headline figures for the platform or one fair."""
    ach_ids, need_ids, pair_ids, worked = _scope(fair_id)
    figures = (
        _listing_totals(ach_ids, need_ids) | _pair_totals(pair_ids, worked) | _people_totals(worked)
    )
    if fair_id is not None:
        figures["meetings_planned"] = _count(
            select(Meeting.id).where(Meeting.fair_id == fair_id, Meeting.status != "cancelled")
        )
        figures["meetings_held"] = _count(
            select(Meeting.id).where(Meeting.fair_id == fair_id, Meeting.status == "held")
        )
    return figures


def _listing_totals(ach_ids, need_ids) -> dict:
    return {
        "achievements": _count(ach_ids),
        "needs": _count(need_ids),
        "bottleneck_needs": _count(
            select(Need.id).where(Need.id.in_(need_ids), Need.is_bottleneck.is_(True))
        ),
        "institutions": _count(
            select(Organization.id).where(
                Organization.kind.in_(("university", "institute")),
                Organization.id.in_(
                    select(Achievement.organization_id).where(Achievement.id.in_(ach_ids))
                ),
            )
        ),
        "companies": _count(
            select(Organization.id).where(
                Organization.kind == "enterprise",
                Organization.id.in_(select(Need.organization_id).where(Need.id.in_(need_ids))),
            )
        ),
    }


def _pair_totals(pair_ids, worked) -> dict:
    value = (
        db.session.scalar(
            select(func.coalesce(func.sum(Contract.amount), 0)).where(
                Contract.suggestion_id.in_(worked)
            )
        )
        or 0
    )
    return {
        "suggested": _count(pair_ids),
        "recommended": _states(worked, RECOMMENDED_ON),
        "met": _states(worked, MET_ON),
        "intentions": _states(worked, INTENTION_ON),
        "contracts": _count(select(Contract).where(Contract.suggestion_id.in_(worked))),
        "contract_value": Decimal(value),
        "contract_value_label": money(value),
    }


def _people_totals(worked) -> dict:
    """Brokers who worked a pair in scope, and the agencies they belong to."""
    brokers = select(User.id).where(
        User.role == "broker",
        or_(
            User.id.in_(select(PairEvent.actor_id).where(PairEvent.suggestion_id.in_(worked))),
            User.id.in_(select(Suggestion.broker_id).where(Suggestion.id.in_(worked))),
        ),
    )
    return {
        "brokers_active": _count(brokers),
        "agencies_active": _count(
            select(Organization.id).where(
                Organization.kind == "agency",
                Organization.id.in_(select(User.organization_id).where(User.id.in_(brokers))),
            )
        ),
    }


def by_field(fair_id: int | None = None) -> list[dict]:
    """Achievements, needs, bottleneck needs and contracts per top-level field."""
    ach_ids, need_ids, _, worked = _scope(fair_id)

    def per_field(link, column, ids, extra=None):
        query = select(link.c.field_id, func.count()).where(column.in_(ids))
        if extra is not None:
            query = query.where(extra)
        return dict(db.session.execute(query.group_by(link.c.field_id)).all())

    achs = per_field(achievement_fields, achievement_fields.c.achievement_id, ach_ids)
    needs = per_field(need_fields, need_fields.c.need_id, need_ids)
    hard = per_field(
        need_fields,
        need_fields.c.need_id,
        select(Need.id).where(Need.id.in_(need_ids), Need.is_bottleneck.is_(True)),
    )
    signed = per_field(
        need_fields,
        need_fields.c.need_id,
        select(Suggestion.need_id).where(
            Suggestion.id.in_(
                select(Contract.suggestion_id).where(Contract.suggestion_id.in_(worked))
            )
        ),
    )
    rows = []
    for f in db.session.scalars(
        select(Field).where(Field.parent_id.is_(None)).order_by(Field.position, Field.id)
    ):
        row = {
            "field": f.name,
            "achievements": achs.get(f.id, 0),
            "needs": needs.get(f.id, 0),
            "bottleneck_needs": hard.get(f.id, 0),
            "contracts": signed.get(f.id, 0),
        }
        if any(v for k, v in row.items() if k != "field"):
            rows.append(row)
    return rows


def _listings_by_kind(model, ids) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Organization.kind, func.count(model.id))
            .join(Organization, Organization.id == model.organization_id)
            .where(model.id.in_(ids))
            .group_by(Organization.kind)
        ).all()
    )


def by_kind(fair_id: int | None = None) -> list[dict]:
    """Organizations taking part, achievements and needs per organization kind."""
    ach_ids, need_ids, _, _ = _scope(fair_id)
    achs = _listings_by_kind(Achievement, ach_ids)
    needs = _listings_by_kind(Need, need_ids)
    orgs = dict(
        db.session.execute(
            select(Organization.kind, func.count(Organization.id))
            .where(
                or_(
                    Organization.id.in_(
                        select(Achievement.organization_id).where(Achievement.id.in_(ach_ids))
                    ),
                    Organization.id.in_(select(Need.organization_id).where(Need.id.in_(need_ids))),
                )
            )
            .group_by(Organization.kind)
        ).all()
    )
    return [
        {
            "kind": KIND_LABELS[k],
            "organizations": orgs.get(k, 0),
            "achievements": achs.get(k, 0),
            "needs": needs.get(k, 0),
        }
        for k in ORG_KINDS
    ]


def _month(value) -> str:
    return f"{value:%Y-%m}"


def by_month(fair_id: int | None = None, today: date | None = None) -> list[dict]:
    """New achievements and needs, pairs met and contracts signed per month (last 12 months)."""
    ach_ids, need_ids, _, worked = _scope(fair_id)
    today = today or date.today()
    months = []
    y, m = today.year, today.month
    for _ in range(MONTHS):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    months.reverse()

    def tally(query) -> Counter:
        return Counter(_month(v) for v in db.session.scalars(query) if v is not None)

    achs = tally(
        select(func.coalesce(Achievement.published_at, Achievement.created_at)).where(
            Achievement.id.in_(ach_ids)
        )
    )
    needs = tally(
        select(func.coalesce(Need.published_at, Need.created_at)).where(Need.id.in_(need_ids))
    )
    met = tally(
        select(PairEvent.at).where(
            PairEvent.to_state == PairState.MET, PairEvent.suggestion_id.in_(worked)
        )
    )
    signed = tally(select(Contract.signed_on).where(Contract.suggestion_id.in_(worked)))
    return [
        {
            "month": k,
            "achievements": achs[k],
            "needs": needs[k],
            "met": met[k],
            "contracts": signed[k],
        }
        for k in months
    ]


def report(fair_id: int | None = None) -> dict:
    """Everything the dashboard page and its export show."""
    fair = db.session.get(Fair, fair_id) if fair_id is not None else None
    data = totals(fair_id)
    return {
        "fair": fair,
        "totals": data,
        "funnel": [(label, data[key]) for key, label in FUNNEL],
        "by_field": by_field(fair_id),
        "by_kind": by_kind(fair_id),
        "by_month": by_month(fair_id),
    }
