"""Digest e-mail, once per recipient and period: brokers hear of new suggestions in their fields
and of pairs waiting on them, organizations of the pairs recommended to them.

A digest is one `digests` row (unique per recipient and period) committed together with its
outbox e-mail, so two schedulers running at once send it once: the second insert of the same
(recipient, period) fails on the unique constraint and its e-mail is rolled back with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError

from matchmaker.accounts.models import Organization, User
from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need
from matchmaker.notifications.models import Digest, OutboxEmail
from matchmaker.pairs.access import visible_clause
from matchmaker.pairs.models import PairEvent, Suggestion
from matchmaker.pairs.states import BROKER_WAITING, PairState

log = logging.getLogger(__name__)
PERIODS = {"week": timedelta(days=7), "day": timedelta(days=1)}
# States in which a pair waits on its broker (both sides answered; the broker moves it on).
LISTED = 5  # pairs named in an e-mail; the rest are counted


@dataclass
class Letter:
    recipient_kind: str
    recipient_id: int
    to: list[str]
    subject: str
    body: str


def period_of(now: datetime, period: str = "week") -> str:
    """Name the period `now` falls in: an ISO week (2026-W49) or a day (2026-12-02)."""
    if period == "day":
        return now.date().isoformat()
    if period != "week":
        raise ValueError(f"DIGEST_PERIOD 应为 week 或 day，而不是 {period!r}")
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def send_digests(now: datetime | None = None) -> dict:
    """Queue this period's digest for every broker and organization with news; safe to repeat."""
    now = now or utcnow()
    kind = current_app.config.get("DIGEST_PERIOD", "week")
    period = period_of(now, kind)
    since = now - PERIODS[kind]
    counts = {"period": period, "digests": 0, "emails": 0, "already_sent": 0}
    for recipient, write in _recipients():
        if _already(recipient, period):
            counts["already_sent"] += 1
            continue
        letter = write(since, period)
        if letter is None:
            continue  # nothing new for this recipient: no e-mail
        sent = _send_once(letter, period)
        if sent is None:
            counts["already_sent"] += 1
        else:
            counts["digests"] += 1
            counts["emails"] += sent
    return counts


def _recipients():
    for broker in _brokers():
        yield ("user", broker.id), partial(broker_letter, broker)
    for org in _organizations():
        yield ("organization", org.id), partial(organization_letter, org)


def _already(recipient: tuple[str, int], period: str) -> bool:
    kind, ident = recipient
    return bool(
        db.session.scalar(
            select(Digest.id).where(
                Digest.recipient_kind == kind, Digest.recipient_id == ident, Digest.period == period
            )
        )
    )


def _send_once(letter: Letter, period: str) -> int | None:
    """Commit the digest row and its e-mail together; None when it was sent already."""
    db.session.commit()  # end the reading transaction: the insert below waits for a writer
    db.session.add(
        Digest(
            recipient_kind=letter.recipient_kind,
            recipient_id=letter.recipient_id,
            period=period,
            emails=len(letter.to),
        )
    )
    for address in letter.to:
        db.session.add(OutboxEmail(to_address=address, subject=letter.subject, body=letter.body))
    try:
        db.session.commit()
    except (IntegrityError, OperationalError) as exc:
        # Another scheduler sent this digest (unique row) or holds the write lock: either
        # way this run must not send it; a locked-out digest is sent by the next run.
        db.session.rollback()
        log.info("digest %s %s for %s not sent here: %s", *_who(letter), period, type(exc).__name__)
        return None
    return len(letter.to)


def _who(letter: Letter) -> tuple[str, int]:
    return letter.recipient_kind, letter.recipient_id


# -- what each recipient hears ---------------------------------------------------------------
def _brokers() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == "broker", User.is_active.is_(True), User.email != "")
            .order_by(User.id)
        )
    )


def _organizations() -> list[Organization]:
    with_members = exists().where(
        User.organization_id == Organization.id,
        User.is_active.is_(True),
        User.email != "",
        User.role.in_(("institute", "enterprise")),
    )
    return list(
        db.session.scalars(
            select(Organization)
            .where(Organization.status == "approved", with_members)
            .order_by(Organization.id)
        )
    )


def broker_letter(broker: User, since: datetime, period: str) -> Letter | None:
    """New suggestions in the broker's fields and pairs waiting on the broker, or None."""
    in_fields = visible_clause(broker)
    new = select(Suggestion).where(
        in_fields,
        Suggestion.state == PairState.SUGGESTED,
        Suggestion.active.is_(True),
        Suggestion.created_at >= since,
    )
    waiting = select(Suggestion).where(
        Suggestion.broker_id == broker.id, Suggestion.state.in_(BROKER_WAITING)
    )
    new_count, new_top = _count_and_top(new)
    waiting_count, waiting_top = _count_and_top(waiting)
    if not new_count and not waiting_count:
        return None
    lines = [f"{broker.display_name or broker.login}，您好：", ""]
    if new_count:
        lines.append(f"本期您负责的领域新增匹配建议 {new_count} 条，得分最高的：")
        lines += [f"  · {_pair_line(p)}" for p in new_top]
    if waiting_count:
        lines.append(f"有 {waiting_count} 个对接等待您跟进：")
        lines += [f"  · {_pair_line(p)}（{_state(p)}）" for p in waiting_top]
    lines += ["", f"打开工作台：{_link('/workbench')}"]
    return Letter(
        "user",
        broker.id,
        [broker.email],
        f"【科技成果转化对接平台】经纪人摘要 {period}："
        f"新建议 {new_count} 条，待跟进 {waiting_count} 个",
        "\n".join(lines) + "\n",
    )


def organization_letter(org: Organization, since: datetime, period: str) -> Letter | None:
    """The pairs recommended to the organization during the period, or None."""
    own = or_(
        Suggestion.need_id.in_(select(Need.id).where(Need.organization_id == org.id)),
        Suggestion.achievement_id.in_(
            select(Achievement.id).where(Achievement.organization_id == org.id)
        ),
    )
    recommended = exists().where(
        PairEvent.suggestion_id == Suggestion.id,
        PairEvent.to_state == PairState.RECOMMENDED,
        PairEvent.at >= since,
    )
    count, top = _count_and_top(select(Suggestion).where(own, recommended))
    if not count:
        return None
    members = db.session.scalars(
        select(User.email)
        .where(
            User.organization_id == org.id,
            User.is_active.is_(True),
            User.email != "",
            User.role.in_(("institute", "enterprise")),
        )
        .order_by(User.id)
    ).all()
    lines = [f"{org.name}：", "", f"本期技术经纪人向贵单位推荐了 {count} 个对接："]
    lines += [f"  · {_pair_line(p)}（{_state(p)}）" for p in top]
    lines += ["", f"查看并答复：{_link('/my/pairs')}"]
    return Letter(
        "organization",
        org.id,
        sorted(set(members)),
        f"【科技成果转化对接平台】对接推荐摘要 {period}：新推荐 {count} 个",
        "\n".join(lines) + "\n",
    )


def _count_and_top(stmt) -> tuple[int, list[Suggestion]]:
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    top = db.session.scalars(stmt.order_by(Suggestion.score.desc(), Suggestion.id).limit(LISTED))
    return count, list(top)


def _pair_line(pair: Suggestion) -> str:
    return f"「{pair.need.title}」↔「{pair.achievement.title}」"


def _state(pair: Suggestion) -> str:
    from matchmaker.pairs.transitions import state_label

    return state_label(pair.state)


def _link(path: str) -> str:
    return f"{current_app.config.get('PUBLIC_URL', '').rstrip('/')}{path}"
