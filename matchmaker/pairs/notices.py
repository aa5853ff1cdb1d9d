"""What a pair's people are told: who acts next after a pair event, and reminders for pairs
waiting on someone."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.notifications.models import Notification
from matchmaker.notifications.notify import notify, org_members
from matchmaker.pairs.access import was_recommended
from matchmaker.pairs.models import PairEvent, Suggestion
from matchmaker.pairs.states import BROKER_WAITING, PairState, reached
from matchmaker.pairs.transitions import SIDE_LABELS, reason_label, state_label


def pair_link(pair_id: int) -> str:
    return f"/pairs/{pair_id}"


def _pair_title(pair: Suggestion) -> str:
    return f"「{pair.need.title}」↔「{pair.achievement.title}」"


def recommendation_note(pair: Suggestion) -> str:
    """What the broker wrote to both parties when recommending the pair (the latest one)."""
    for event in reversed(pair.events):
        if event.to_state == PairState.RECOMMENDED and event.kind in ("transition", "propose"):
            return event.note or ""
    return ""


@dataclass(frozen=True)
class _Told:
    """Who hears about one pair event, and what every message of it shares."""

    pair: Suggestion
    event: PairEvent
    actor_id: int
    title: str
    link: str
    need_side: list
    achievement_side: list
    broker: User | None

    @property
    def parties(self) -> list:
        return self.need_side + self.achievement_side

    def send(self, users, kind: str, message: str) -> None:
        notify(users, kind, message, self.link, self.actor_id)


def on_pair_event(pair: Suggestion, event: PairEvent, actor: User) -> None:
    """Tell the people who must act next (or who asked to know) about a pair event."""
    if event.kind == "transition":
        react = ON_TRANSITION.get(event.to_state)
    else:
        react = ON_KIND.get(event.kind)
    if react is None:
        return  # notes, claims, snoozes and proposals tell nobody
    react(
        _Told(
            pair=pair,
            event=event,
            actor_id=actor.id,
            title=_pair_title(pair),
            link=pair_link(pair.id),
            need_side=org_members(pair.need.organization_id),
            achievement_side=org_members(pair.achievement.organization_id),
            broker=db.session.get(User, pair.broker_id) if pair.broker_id else None,
        )
    )


def _reassigned(t: _Told) -> None:
    t.send([t.broker], "pair_assigned", f"工作人员将配对{t.title}分配给您")


def _recommended(t: _Told) -> None:
    note = f"。推荐说明：{t.event.note}" if t.event.note else ""
    t.send(
        t.parties,
        "pair_recommended",
        f"技术经纪人向贵单位推荐了对接{t.title}，请答复是否有合作意向{note}",
    )


def _answered(t: _Told) -> None:
    side = SIDE_LABELS[t.event.side]
    if t.event.to_state == PairState.DECLINED:
        other = t.achievement_side if t.event.side == "need" else t.need_side
        message = f"{side}婉拒了对接{t.title}，原因：{reason_label(t.event.reason)}" + (
            f"（{t.event.note}）" if t.event.note else ""
        )
        t.send([t.broker] + other, "pair_declined", message)
    elif t.event.to_state == PairState.ACCEPTED:
        t.send(t.parties, "pair_accepted", f"对接{t.title}双方均有意向，现可查看对方联系方式")
        t.send([t.broker], "pair_accepted", f"对接{t.title}双方均有意向，请安排约见")
    else:
        t.send([t.broker], "pair_answer", f"{side}对{t.title}表示有意向")


def _progressed(t: _Told) -> None:
    to = t.event.to_state
    t.send(t.parties + [t.broker], f"pair_{to}", f"对接{t.title}进展：{state_label(to)}")


def _closed(t: _Told) -> None:
    parties = t.parties if was_recommended(t.pair) else []
    t.send(
        parties + [t.broker],
        "pair_closed",
        f"对接{t.title}已关闭，原因：{reason_label(t.event.reason)}",
    )


# Event kinds other than a state move, and the moves, with who is told what.
ON_KIND = {"reassign": _reassigned, "answer": _answered}
ON_TRANSITION = {
    PairState.RECOMMENDED: _recommended,
    **dict.fromkeys(reached(PairState.MEETING_SCHEDULED), _progressed),
    PairState.CLOSED: _closed,
}


# --- reminders ------------------------------------------------------------------------------------

WAITING_STATES = (PairState.RECOMMENDED, *BROKER_WAITING)


def send_reminders(days: int | None = None, now=None) -> dict:
    """Remind whoever a pair has waited on for more than `days` days; once per waiting period."""
    days = days if days is not None else current_app.config["REMINDER_DAYS"]
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    pairs = db.session.scalars(
        select(Suggestion).where(
            Suggestion.state.in_(WAITING_STATES),
            Suggestion.state_changed_at < cutoff,
            (Suggestion.snoozed_until.is_(None)) | (Suggestion.snoozed_until < now),
        )
    )
    reminded = 0
    people = 0
    for pair in pairs:
        link = pair_link(pair.id)
        recent = db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.kind == "reminder",
                Notification.link == link,
                Notification.created_at >= cutoff,
            )
        )
        if recent:
            continue
        users, message = _waiting_on(pair, days)
        count = notify(users, "reminder", message, link)
        if count:
            reminded += 1
            people += count
    db.session.commit()
    return {"pairs": reminded, "notifications": people}


def _waiting_on(pair: Suggestion, days: int):
    title = _pair_title(pair)
    if pair.state == PairState.RECOMMENDED:
        users = []
        if pair.need_answer is None:
            users += org_members(pair.need.organization_id)
        if pair.achievement_answer is None:
            users += org_members(pair.achievement.organization_id)
        return users, f"提醒：对接{title}已推荐超过{days}天，仍等待贵单位答复"
    users = [pair.broker] if pair.broker else list(_staff())
    return users, f"提醒：对接{title}停留在「{state_label(pair.state)}」超过{days}天，请跟进"


def _staff():
    return db.session.scalars(select(User).where(User.role == "staff", User.is_active.is_(True)))
