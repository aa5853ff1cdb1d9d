"""`flask fairs ...`: create a fair, dry-run its plan, publish it."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from matchmaker.accounts.models import User
from matchmaker.core.cli import echo_json, fail
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.fairs import organize as service
from matchmaker.fairs import plan as fair_plan

fairs = AppGroup("fairs", help="Matching fairs: create, plan (dry run), publish.")


def _staff_id(login: str | None) -> int | None:
    """The staff account named by --as; without it the first staff account, or none (system)."""
    query = select(User.id).where(User.role == "staff", User.is_active.is_(True))
    if login:
        query = query.where(User.login == login)
    user_id = db.session.scalar(query.order_by(User.id).limit(1))
    if user_id is None and login:
        fail(
            f"no staff account{' ' + login if login else ''}; create one with `flask users create`"
        )
    return user_id


@fairs.command("create")
@click.option("--name", required=True)
@click.option("--date", "held_on", required=True, help="YYYY-MM-DD")
@click.option("--slots", type=int, default=None, help="number of meeting slots")
@click.option("--tables", type=int, default=10)
@click.option("--quota", type=int, default=5, help="default meetings per listing")
@click.option("--org-quota", type=int, default=None, help="meetings per organization")
@click.option("--slot-minutes", type=int, default=20)
@click.option("--start", "starts_at", default="09:00")
@click.option("--venue", default="")
@click.option("--register-all", is_flag=True, help="register every published listing")
@click.option(
    "--min-score", default=None, help="minimum meeting score 0–1 (default: from the scores)"
)
@click.option("--as", "login", default=None, help="staff login acting (default: first staff)")
def create(
    name,
    held_on,
    slots,
    tables,
    quota,
    org_quota,
    slot_minutes,
    starts_at,
    venue,
    register_all,
    min_score,
    login,
) -> None:
    """Create a fair and print its id."""
    actor_id = _staff_id(login)
    try:
        fair = service.create_fair(
            name,
            held_on,
            venue=venue,
            starts_at=starts_at,
            slot_minutes=slot_minutes,
            slots=slots,
            tables=tables,
            default_quota=quota,
            org_quota=org_quota,
            actor_id=actor_id,
        )
        if min_score is not None:
            fair_plan.set_min_score(fair.id, min_score, actor_id)
        if register_all:
            service.register_all(fair.id, actor_id)
    except ServiceError as e:
        where = f" ({', '.join(e.errors)})" if e.errors else ""
        fail(f"{e.message}{where}")
    click.echo(fair.id)


@fairs.command("plan")
@click.argument("fair_id", type=int)
@click.option("--verbose", is_flag=True, help="add the slot lower bound and must-meet figures")
def plan(fair_id: int, verbose: bool) -> None:
    """Assign and timetable a fair without saving (one JSON line of figures)."""
    try:
        figures = fair_plan.compute_plan(fair_id)
    except ServiceError as e:
        fail(e.message)
    keys = (
        "meetings",
        "objective",
        "greedy_objective",
        "slots_used",
        "max_degree",
        "double_booked",
        "seconds",
    )
    if verbose:
        keys += (
            "lower_bound",
            "unplaced",
            "must_meet",
            "must_meet_missed",
            "candidates",
            "excluded",
            "optimal",
        )
    echo_json({k: figures[k] for k in keys})


@fairs.command("publish")
@click.argument("fair_id", type=int)
@click.option("--as", "login", default=None, help="staff login acting (default: first staff)")
def publish(fair_id: int, login: str | None) -> None:
    """Save the plan as meetings and schedule the pairs (re-run keeps confirmed meetings)."""
    try:
        summary = fair_plan.publish(fair_id, _staff_id(login))
    except ServiceError as e:
        fail(e.message)
    echo_json(summary)
