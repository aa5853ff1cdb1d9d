"""After a fair is planned: staff move, confirm or cancel meetings; brokers record outcomes."""

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.text_limits import NOTE_MAX, check_length
from matchmaker.fairs import pairs as fair_pairs
from matchmaker.fairs.models import Fair, FairParticipant
from matchmaker.fairs.organize import get_fair, slot_times
from matchmaker.fairs.plan import require_role
from matchmaker.pairs.models import CONTRACT_TYPES, Meeting
from matchmaker.pairs.states import PairState

OUTCOMES = ("held", "no_show", "intention", "contract")


def _meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("洽谈不存在")
    return meeting


def move_meeting(meeting_id: int, slot: int, table: int, actor_id: int) -> Meeting:
    """Put a meeting in another slot/table (staff); it then counts as confirmed."""
    require_role(actor_id)
    meeting = _meeting(meeting_id)
    fair = meeting.fair
    if meeting.status not in ("planned", "confirmed"):
        raise Conflict("只能调整未举行的洽谈")
    if not 0 <= slot < fair.slots_count:
        raise ServiceError(f"时段应为 1–{fair.slots_count}", field="slot")
    if not 0 <= table < fair.tables_count:
        raise ServiceError(f"桌号应为 1–{fair.tables_count}", field="table")
    pair = meeting.suggestion
    orgs = {pair.need.organization_id, pair.achievement.organization_id}
    for part in db.session.scalars(
        select(FairParticipant).where(
            FairParticipant.fair_id == fair.id, FairParticipant.organization_id.in_(orgs)
        )
    ):
        if slot in (part.unavailable_slots or []):
            raise ServiceError("有一方在该时段不能到场", field="slot")
    others = db.session.scalars(
        select(Meeting).where(
            Meeting.fair_id == fair.id,
            Meeting.slot == slot,
            Meeting.id != meeting.id,
            Meeting.status != "cancelled",
        )
    )
    for other in others:
        if other.table_no == table:
            raise ServiceError("该时段这张桌已有洽谈", field="table")
        o = other.suggestion
        if {o.need.organization_id, o.achievement.organization_id} & orgs:
            raise ServiceError("有一方在该时段已有其他洽谈", field="slot")
    meeting.slot, meeting.table_no, meeting.status = slot, table, "confirmed"
    meeting.starts_at = slot_times(fair)[slot].starts
    meeting.place = f"{fair.venue} 第{table + 1}桌".strip()
    db.session.commit()
    return meeting


def confirm_meeting(meeting_id: int, actor_id: int) -> Meeting:
    """Confirm a planned meeting (staff or either side); a re-plan then keeps it."""
    meeting = _meeting(meeting_id)
    user = db.session.get(User, actor_id)
    pair = meeting.suggestion
    sides = {pair.need.organization_id, pair.achievement.organization_id}
    if user is None or (user.role != "staff" and user.organization_id not in sides):
        raise Forbidden("只能确认本单位的洽谈")
    if meeting.status != "planned":
        raise Conflict("该洽谈无需确认")
    meeting.status = "confirmed"
    db.session.commit()
    return meeting


def cancel_meeting(meeting_id: int, actor_id: int, note: str = "") -> Meeting:
    """Cancel a meeting (staff); a re-plan will not bring it back."""
    require_role(actor_id)
    check_length(note.strip(), NOTE_MAX, "备注", "note")
    meeting = _meeting(meeting_id)
    if meeting.status not in ("planned", "confirmed"):
        raise Conflict("只能取消未举行的洽谈")
    # A scheduled pair keeps its state: its broker reschedules or closes it on the workbench.
    meeting.status, meeting.note = "cancelled", note.strip()
    db.session.commit()
    return meeting


def _contract_values(values: dict) -> dict:
    errors = {}
    kind = (values.get("contract_type") or "").strip()
    if kind not in CONTRACT_TYPES:
        errors["contract_type"] = "请选择合同类型"
    try:
        amount = Decimal(str(values.get("amount", "")).strip())
        if amount < 0 or amount >= Decimal("1e12"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = "合同金额（万元）应为不小于0的数字"
        amount = None
    signed = values.get("signed_on") or date.today()
    if isinstance(signed, str):
        try:
            signed = date.fromisoformat(signed.strip())
        except ValueError:
            errors["signed_on"] = "签约日期格式应为 YYYY-MM-DD"
    if errors:
        raise ServiceError(next(iter(errors.values())), errors=errors)
    return {"contract_type": kind, "amount": amount, "signed_on": signed}


def record_outcome(
    meeting_id: int, actor_id: int, outcome: str, note: str = "", contract: dict | None = None
) -> Meeting:
    """Record what came of a meeting (brokers, staff): held, no-show, intention or contract."""
    require_role(actor_id, "staff", "broker")
    check_length(note.strip(), NOTE_MAX, "备注", "note")
    meeting = _meeting(meeting_id)
    if outcome not in OUTCOMES:
        raise ServiceError("请选择洽谈结果", field="outcome")
    if meeting.status == "cancelled":
        raise Conflict("该洽谈已取消")
    terms = _contract_values(contract or {}) if outcome == "contract" else None
    if outcome == "no_show":
        if meeting.status == "held":
            raise Conflict("该洽谈已登记为已举行")
        # The pair keeps its state: its broker reschedules or closes it on the workbench.
        meeting.status = "no_show"
    else:
        target = {"held": PairState.MET}.get(outcome, outcome)
        if terms is not None:
            terms = {
                "type": terms["contract_type"],
                "amount": str(terms["amount"]),
                "signed_on": terms["signed_on"].isoformat(),
            }
        fair_pairs.follow_up(meeting.id, actor_id, target, note=note, contract=terms)
        meeting = _meeting(meeting_id)
        meeting.status = "held"
    meeting.outcome_by_id, meeting.outcome_at = actor_id, utcnow()
    if note.strip():
        meeting.note = note.strip()
    db.session.commit()
    return meeting


def close_fair(fair_id: int, actor_id: int) -> Fair:
    """Mark a fair as over (staff); outcomes may still be recorded."""
    require_role(actor_id)
    fair = get_fair(fair_id)
    if fair.status != "published":
        raise Conflict("只有已发布日程的对接会可以结束")
    fair.status = "closed"
    db.session.commit()
    return fair
