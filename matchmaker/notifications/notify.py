"""In-app notifications, the e-mail outbox, and reminders for pairs waiting on someone."""

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func, select, update

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.notifications.models import Notification, OutboxEmail
from matchmaker.pairs.access import was_recommended
from matchmaker.pairs.models import PairEvent, Suggestion
from matchmaker.pairs.transitions import SIDE_LABELS, reason_label, state_label

log = logging.getLogger(__name__)
PARTY_ROLES = ("institute", "enterprise")


def pair_link(pair_id: int) -> str:
    return f"/pairs/{pair_id}"


def _pair_title(pair: Suggestion) -> str:
    return f"「{pair.need.title}」↔「{pair.achievement.title}」"


def org_members(org_id: int | None) -> list[User]:
    if org_id is None:
        return []
    return list(
        db.session.scalars(
            select(User).where(
                User.organization_id == org_id,
                User.is_active.is_(True),
                User.membership == "approved",
                User.role.in_(PARTY_ROLES),
            )
        )
    )


def notify(users, kind: str, message: str, link: str = "", exclude: int | None = None) -> int:
    """Add an in-app notification, and an outbox e-mail where the user has an address."""
    seen = set()
    for user in users:
        if user is None or user.id in seen or user.id == exclude or not user.is_active:
            continue
        seen.add(user.id)
        db.session.add(Notification(user_id=user.id, kind=kind, message=message, link=link))
        if user.email:
            db.session.add(
                OutboxEmail(
                    to_address=user.email,
                    subject=f"【科技成果转化对接平台】{message[:60]}",
                    body=f"{user.display_name or user.login}，您好：\n\n{message}\n\n"
                    f"查看：{current_app.config.get('PUBLIC_URL', '').rstrip('/')}{link}\n",
                )
            )
    return len(seen)


def recommendation_note(pair: Suggestion) -> str:
    """What the broker wrote to both parties when recommending the pair (the latest one)."""
    for event in reversed(pair.events):
        if event.to_state == "recommended" and event.kind in ("transition", "propose"):
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
    elif event.kind == "transition" and to == "recommended":
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
        if to == "declined":
            other = achievement_side if event.side == "need" else need_side
            reason = reason_label(event.reason)
            message = f"{side}婉拒了对接{title}，原因：{reason}" + (
                f"（{event.note}）" if event.note else ""
            )
            notify([broker] + other, "pair_declined", message, link, actor.id)
        elif to == "accepted":
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
    elif event.kind == "transition" and to in ("meeting_scheduled", "met", "intention", "contract"):
        notify(
            need_side + achievement_side + [broker],
            f"pair_{to}",
            f"对接{title}进展：{state_label(to)}",
            link,
            actor.id,
        )
    elif event.kind == "transition" and to == "closed":
        parties = need_side + achievement_side if was_recommended(pair) else []
        notify(
            parties + [broker],
            "pair_closed",
            f"对接{title}已关闭，原因：{reason_label(event.reason)}",
            link,
            actor.id,
        )


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
    )


def for_user(user_id: int, page: int = 1, per_page: int = 30):
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one notification, or all of a user's, as read."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    count = db.session.execute(stmt.values(read_at=utcnow())).rowcount
    db.session.commit()
    return count


def mark_read_link(user_id: int, link: str) -> int:
    """Opening the page a notification points to reads it (the badge then counts one less)."""
    count = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            Notification.link == link,
        )
        .values(read_at=utcnow())
    ).rowcount
    if count:
        db.session.commit()
    return count


# --- e-mail ---------------------------------------------------------------------------------------


def kick_outbox() -> None:
    """Ask a worker to send pending e-mail, when the app is set up to queue it."""
    if not current_app.config.get("OUTBOX_QUEUE"):
        return
    try:
        from workers.tasks import deliver_outbox

        deliver_outbox.apply_async(retry=False)
    except Exception:  # noqa: BLE001  a broker outage must not fail the pair's move
        log.warning("could not queue outbox delivery; pending e-mail waits for the next run")


def deliver_outbox(limit: int = 100) -> dict:
    """Send pending e-mail via SMTP, or mark it 'logged' when no MAIL_SERVER is configured."""
    config = current_app.config
    rows = list(
        db.session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.status == "pending")
            .order_by(OutboxEmail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    counts = {"sent": 0, "failed": 0, "logged": 0}
    if not config.get("MAIL_SERVER"):
        for row in rows:
            log.info("mail (no MAIL_SERVER) to %s: %s", row.to_address, row.subject)
            row.status = "logged"
            row.sent_at = utcnow()
        counts["logged"] = len(rows)
        db.session.commit()
        return counts
    for row in rows:
        row.attempts += 1
        try:
            _smtp_send(config, row)
        except (OSError, smtplib.SMTPException) as e:
            row.error = str(e)[:500]
            row.status = "failed" if row.attempts >= 3 else "pending"
            counts["failed"] += 1
        else:
            row.status, row.sent_at, row.error = "sent", utcnow(), ""
            counts["sent"] += 1
        db.session.commit()
    return counts


def _smtp_send(config, row: OutboxEmail) -> None:
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message.set_content(row.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        smtp.send_message(message)


def outbox(page: int = 1, per_page: int = 50, status: str | None = None):
    stmt = select(OutboxEmail).order_by(OutboxEmail.id.desc())
    if status:
        stmt = stmt.where(OutboxEmail.status == status)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# --- reminders ------------------------------------------------------------------------------------

WAITING_STATES = ("recommended", "accepted", "meeting_scheduled", "met", "intention")


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
    if pair.state == "recommended":
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
