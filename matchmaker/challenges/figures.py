"""The dashboard's figures for the bottleneck list, the agencies and registered contracts.

Definitions:
- listed: problems on the list now; published_versions: versions of the list published so far;
- applications / chosen: applications received / chosen; list_contracts: chosen applications
  whose pair reached `contract`, with their contracts' value (万元);
- agencies by level: approved agency organizations by recognised level (未认定 when none);
- certified this year: brokers whose certificate date falls in the current year, beside the
  target staff set for that year;
- per agency: brokers belonging to it, and the contracts (count, value in 万元) of pairs whose
  broker belongs to it;
- registrations by type: registered contracts, their total and 技术交易额 (万元), per contract type.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from matchmaker.accounts.models import Organization
from matchmaker.challenges import agencies as agency_service
from matchmaker.challenges.models import (
    AGENCY_LEVELS,
    AgencyProfile,
    BottleneckEntry,
    BottleneckListVersion,
    BrokerProfile,
    ChallengeApplication,
    ContractRegistration,
)
from matchmaker.core.extensions import db
from matchmaker.pairs.models import CONTRACT_TYPES, Contract, Suggestion
from matchmaker.pairs.states import PairState


def _count(query) -> int:
    return db.session.scalar(query) or 0


def list_figures() -> dict:
    chosen_contracts = (
        select(func.count(Contract.id), func.coalesce(func.sum(Contract.amount), 0))
        .join(Suggestion, Suggestion.id == Contract.suggestion_id)
        .join(ChallengeApplication, ChallengeApplication.suggestion_id == Suggestion.id)
        .where(ChallengeApplication.status == "chosen", Suggestion.state == PairState.CONTRACT)
    )
    contracts, value = db.session.execute(chosen_contracts).one()
    return {
        "listed": _count(
            select(func.count(BottleneckEntry.id)).where(BottleneckEntry.status == "listed")
        ),
        "published_versions": _count(select(func.count(BottleneckListVersion.id))),
        "applications": _count(
            select(func.count(ChallengeApplication.id)).where(
                ChallengeApplication.status != "withdrawn"
            )
        ),
        "chosen": _count(
            select(func.count(ChallengeApplication.id)).where(
                ChallengeApplication.status == "chosen"
            )
        ),
        "list_contracts": contracts or 0,
        "list_contract_value": Decimal(value or 0).quantize(Decimal("0.01")),
    }


def agency_levels() -> list[dict]:
    rows = {
        level or "none": count
        for level, count in db.session.execute(
            select(AgencyProfile.level, func.count(Organization.id))
            .select_from(Organization)
            .outerjoin(AgencyProfile, AgencyProfile.organization_id == Organization.id)
            .where(Organization.kind == "agency", Organization.status == "approved")
            .group_by(AgencyProfile.level)
        ).all()
    }
    out = [{"level": k, "label": v, "agencies": rows.get(k, 0)} for k, v in AGENCY_LEVELS.items()]
    out.append({"level": "none", "label": "未认定", "agencies": rows.get("none", 0)})
    return out


def certification(year: int | None = None) -> dict:
    year = year or date.today().year
    certified = _count(
        select(func.count(BrokerProfile.user_id)).where(
            BrokerProfile.certified_on >= date(year, 1, 1),
            BrokerProfile.certified_on <= date(year, 12, 31),
        )
    )
    total = _count(
        select(func.count(BrokerProfile.user_id)).where(BrokerProfile.certificate_no.is_not(None))
    )
    return {
        "year": year,
        "certified": certified,
        "target": agency_service.target(year),
        "certified_total": total,
    }


def per_agency() -> list[dict]:
    brokers = dict(
        db.session.execute(
            select(BrokerProfile.agency_id, func.count(BrokerProfile.user_id))
            .where(BrokerProfile.agency_id.is_not(None))
            .group_by(BrokerProfile.agency_id)
        ).all()
    )
    contracts = {
        agency_id: (count, value)
        for agency_id, count, value in db.session.execute(
            select(
                BrokerProfile.agency_id,
                func.count(Contract.id),
                func.coalesce(func.sum(Contract.amount), 0),
            )
            .join(Suggestion, Suggestion.broker_id == BrokerProfile.user_id)
            .join(Contract, Contract.suggestion_id == Suggestion.id)
            .where(BrokerProfile.agency_id.is_not(None), Suggestion.state == PairState.CONTRACT)
            .group_by(BrokerProfile.agency_id)
        ).all()
    }
    out = []
    for org, profile in agency_service.agencies():
        count, value = contracts.get(org.id, (0, 0))
        out.append(
            {
                "agency_id": org.id,
                "agency": org.name,
                "level": AGENCY_LEVELS.get(profile.level, "未认定") if profile else "未认定",
                "brokers": brokers.get(org.id, 0),
                "contracts": count,
                "contract_value": Decimal(value or 0).quantize(Decimal("0.01")),
            }
        )
    return out


def registrations_by_type(start: date | None = None, end: date | None = None) -> list[dict]:
    query = (
        select(
            Contract.contract_type,
            func.count(ContractRegistration.id),
            func.coalesce(func.sum(ContractRegistration.total_amount), 0),
            func.coalesce(func.sum(ContractRegistration.technical_amount), 0),
        )
        .join(Contract, Contract.id == ContractRegistration.contract_id)
        .group_by(Contract.contract_type)
    )
    if start:
        query = query.where(ContractRegistration.registered_on >= start)
    if end:
        query = query.where(ContractRegistration.registered_on <= end)
    rows = {kind: (n, total, tech) for kind, n, total, tech in db.session.execute(query).all()}
    out = []
    for kind in CONTRACT_TYPES:
        n, total, tech = rows.get(kind, (0, 0, 0))
        out.append(
            {
                "type": kind,
                "registrations": n,
                "total_amount": Decimal(total or 0).quantize(Decimal("0.01")),
                "technical_amount": Decimal(tech or 0).quantize(Decimal("0.01")),
            }
        )
    return out


def all_figures() -> dict:
    """Everything the dashboard shows for this package, in one dict."""
    by_type = registrations_by_type()
    return {
        "list": list_figures(),
        "agency_levels": agency_levels(),
        "certification": certification(),
        "per_agency": per_agency(),
        "registrations": by_type,
        "registered_total": sum((r["total_amount"] for r in by_type), start=Decimal("0.00")),
        "registered_technical": sum(
            (r["technical_amount"] for r in by_type), start=Decimal("0.00")
        ),
    }
