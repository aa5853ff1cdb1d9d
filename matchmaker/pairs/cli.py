"""`flask pairs ...`: reminders and outbox delivery from cron or by hand."""

import click
from flask.cli import AppGroup

from matchmaker.core.cli import echo_json, fail
from matchmaker.core.exceptions import ServiceError
from matchmaker.notifications import notify as notifications
from matchmaker.pairs import notices

pairs = AppGroup("pairs", help="Pairs: reminders and e-mail delivery.")


@pairs.command("remind")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Waiting longer than this many days (default: REMINDER_DAYS).",
)
def remind(days: int | None) -> None:
    """Remind whoever a pair has been waiting on."""
    try:
        echo_json(notices.send_reminders(days))
    except ServiceError as e:
        fail(e.message)


@pairs.command("send-mail")
def send_mail() -> None:
    """Send pending outbox e-mail now (or mark it logged without MAIL_SERVER)."""
    echo_json(notifications.deliver_outbox())
