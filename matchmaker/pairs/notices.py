"""What a pair's people are told: who acts next after a pair event, and reminders for pairs
waiting on someone."""

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


def on_pair_event(pair: Suggestion, event: PairEvent, actor: User) -> None:
    """Tell the people who must act next (or who asked to know) about a pair event."""
    title = _pair_title(pair)
    link = pair_link(pair.id)
    need_side = org_members(pair.need.organization_id)
    achievement_side = org_members(pair.achievement.organization_id)
    broker = db.session.get(User, pair.broker_id) if pair.broker_id else None
    to = event.to_state
    if event.kind == "reassign":
        notify([broker], "pair_assigned", f"工作人员将配对{title}分配给您", link, actor.id)
    elif event.kind == "transition" and to == PairState.RECOMMENDED:
        note = f"。推荐说明：{event.note}" if event.note else ""
        notify(
            need_side + achievement_side,
            "pair_recommended",
            f"技术经纪人向贵单位推荐了对接{title}，请答复是否有合作意向{note}",
            link,
            actor.id,
        )
    elif event.kind == "answer":
        side = SIDE_LABELS[event.side]
        if to == PairState.DECLINED:
            other = achievement_side if event.side == "need" else need_side
            reason = reason_label(event.reason)
            message = f"{side}婉拒了对接{title}，原因：{reason}" + (
                f"（{event.note}）" if event.note else ""
            )
            notify([broker] + other, "pair_declined", message, link, actor.id)
        elif to == PairState.ACCEPTED:
            notify(
                need_side + achievement_side,
                "pair_accepted",
                f"对接{title}双方均有意向，现可查看对方联系方式",
                link,
                actor.id,
            )
            notify(
                [broker], "pair_accepted", f"对接{title}双方均有意向，请安排约见", link, actor.id
            )
        else:
            notify([broker], "pair_answer", f"{side}对{title}表示有意向", link, actor.id)
    elif event.kind == "transition" and to in reached(PairState.MEETING_SCHEDULED):
        notify(
            need_side + achievement_side + [broker],
            f"pair_{to}",
            f"对接{title}进展：{state_label(to)}",
            link,
            actor.id,
        )
    elif event.kind == "transition" and to == PairState.CLOSED:
        parties = need_side + achievement_side if was_recommended(pair) else []
        notify(
            parties + [broker],
            "pair_closed",
            f"对接{title}已关闭，原因：{reason_label(event.reason)}",
            link,
            actor.id,
        )


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
