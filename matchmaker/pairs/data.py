"""Pairs as plain data for the API and the pages: listings, history, contract, fit."""

from functools import cache

from sqlalchemy import bindparam, select

from matchmaker.accounts.models import User
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.access import contacts_revealed, sides_of
from matchmaker.pairs.models import Contract, Suggestion
from matchmaker.pairs.transitions import state_label


def _org(org, revealed: bool) -> dict | None:
    if org is None:
        return None
    data = {"id": org.id, "name": org.name, "kind": org.kind, "region": org.region}
    if revealed:
        data.update(
            contact_name=org.contact_name,
            contact_phone=org.contact_phone,
            contact_email=org.contact_email,
        )
    return data


def _money(value) -> float | None:
    return float(value) if value is not None else None


def listing_dict(row, revealed: bool) -> dict:
    data = {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "keywords": list(row.keywords or []),
        "fields": [f.name for f in row.fields],
        "organization": _org(row.organization, revealed),
    }
    if revealed:
        data.update(contact_name=row.contact_name, contact_phone=row.contact_phone)
    if isinstance(row, Need):
        data.update(
            is_bottleneck=row.is_bottleneck,
            budget_min=_money(row.budget_min),
            budget_max=_money(row.budget_max),
        )
    else:
        data.update(
            maturity=row.maturity,
            trl=row.trl,
            price_min=_money(row.price_min),
            price_max=_money(row.price_max),
        )
    return data


def history(pair: Suggestion) -> list[dict]:
    return [
        {
            "from": e.from_state,
            "to": e.to_state,
            "kind": e.kind,
            "by": (e.actor.display_name or e.actor.login) if e.actor else None,
            "by_id": e.actor_id,
            "at": e.at.isoformat(timespec="seconds") + "Z",
            "side": e.side,
            "reason": e.reason,
            "note": e.note,
        }
        for e in pair.events
    ]


@cache
def _contract_of_pair():
    # Built once: on every pair page, building the statement cost more CPU than running it.
    return select(Contract).where(Contract.suggestion_id == bindparam("pair_id"))


def pair_dict(pair: Suggestion, viewer: User, with_history: bool = True) -> dict:
    """The pair as the viewer may see it."""
    revealed = contacts_revealed(viewer, pair)
    contract = db.session.scalar(_contract_of_pair(), {"pair_id": pair.id})
    data = {
        "id": pair.id,
        "state": pair.state,
        "state_label": state_label(pair.state),
        "score": round(pair.score, 4),
        "terms": [[t, s] for t, s in (pair.terms or [])],
        "need_rank": pair.need_rank,
        "achievement_rank": pair.achievement_rank,
        "same_field": pair.same_field,
        "cross_field": pair.cross_field,
        "source": pair.source,
        "need_answer": pair.need_answer,
        "achievement_answer": pair.achievement_answer,
        "reason": pair.reason,
        "broker_id": pair.broker_id,
        "claimed_by_id": pair.claimed_by_id,
        "snoozed_until": pair.snoozed_until.isoformat() if pair.snoozed_until else None,
        "version": pair.lock_version,
        "need": listing_dict(pair.need, revealed or "need" in sides_of(viewer, pair)),
        "achievement": listing_dict(
            pair.achievement, revealed or "achievement" in sides_of(viewer, pair)
        ),
        "contract": {
            "id": contract.id,
            "type": contract.contract_type,
            "amount": float(contract.amount),
            "signed_on": contract.signed_on.isoformat(),
        }
        if contract
        else None,
    }
    if with_history:
        data["history"] = history(pair)
    return data


def fit_summary(pair: Suggestion) -> list[dict]:
    """How well the pair fits beyond the text: field, maturity, budget against price."""
    need, achievement = pair.need, pair.achievement
    shared = {f.name for f in need.fields} & {f.name for f in achievement.fields}
    rows = [
        {
            "label": "技术领域",
            "ok": bool(shared),
            "text": "同属" + "、".join(sorted(shared)) if shared else "领域不同",
        }
    ]
    if achievement.maturity or achievement.trl:
        trl = achievement.trl
        text = f"成果处于{achievement.maturity or '—'}阶段" + (f"（TRL {trl}）" if trl else "")
        rows.append({"label": "成熟度", "ok": (trl or 0) >= 6, "text": text})
    else:
        rows.append({"label": "成熟度", "ok": None, "text": "成果未填写成熟度"})
    rows.append(_budget_fit(need, achievement))
    return rows


def _budget_fit(need: Need, achievement: Achievement) -> dict:
    budget_hi = need.budget_max if need.budget_max is not None else need.budget_min
    price_lo = achievement.price_min if achievement.price_min is not None else achievement.price_max
    if budget_hi is None or price_lo is None:
        return {"label": "预算与报价", "ok": None, "text": "预算或报价未填写"}
    budget = _range_text(need.budget_min, need.budget_max)
    price = _range_text(achievement.price_min, achievement.price_max)
    ok = budget_hi >= price_lo
    verdict = "预算覆盖报价" if ok else "预算低于报价"
    return {
        "label": "预算与报价",
        "ok": ok,
        "text": f"需求预算{budget}，成果报价{price}：{verdict}",
    }


def _range_text(low, high) -> str:
    if low is not None and high is not None and low != high:
        return f"{low:g}–{high:g}万元"
    value = low if low is not None else high
    return f"{value:g}万元"


def decline_feedback(kind: str, listing_id: int) -> list[tuple[str, int]]:
    """Why the other side declined pairs with this listing: (reason, count), most common first."""
    from collections import Counter

    from matchmaker.pairs.transitions import reason_label

    if kind == "achievement":
        stmt = select(Suggestion.reason).where(
            Suggestion.achievement_id == listing_id, Suggestion.need_answer == "declined"
        )
    else:
        stmt = select(Suggestion.reason).where(
            Suggestion.need_id == listing_id, Suggestion.achievement_answer == "declined"
        )
    counts = Counter(reason_label(r) for r in db.session.scalars(stmt))
    return counts.most_common()
