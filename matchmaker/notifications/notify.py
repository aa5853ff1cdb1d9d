"""In-app notifications and the e-mail outbox: add them, read them, deliver them."""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, g, has_app_context
from sqlalchemy import func, select, update

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.notifications.models import Notification, OutboxEmail

log = logging.getLogger(__name__)
PARTY_ROLES = ("institute", "enterprise")


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
    _forget_unread_count()
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


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(unread_count_of(user_id)))


def unread_count_of(user_id):
    """The unread count of a user id (a value or a column) as a scalar subquery."""
    return (
        select(func.count(Notification.id))
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
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
    _forget_unread_count()
    return count


def _forget_unread_count() -> None:
    # The header's count was loaded with the user (accounts/auth.load_user); a page rendered
    # after this change counts afresh.
    if has_app_context():
        g.pop("unread_notifications", None)


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
        # By name, so the notifications domain needs nothing from the worker package.
        current_app.extensions["celery"].send_task("workers.tasks.deliver_outbox", retry=False)
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


def add_in_app(users, kind: str, message: str, link: str = "") -> None:
    """Add an in-app notification for each user (no e-mail)."""
    for user in users:
        db.session.add(Notification(user_id=user.id, kind=kind, message=message, link=link))


def on_notice(sender: str, users, message: str, link: str = "", **_) -> None:
    """Receiver of `core.signals.notice`: a domain below this one tells users something."""
    add_in_app(users, sender, message, link)
