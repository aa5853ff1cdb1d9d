"""Participants' agendas for a fair: rows for the page, an .xlsx file and a printable sheet."""

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from matchmaker.accounts.models import Organization
from matchmaker.core.exports import Sheet, write_sheets
from matchmaker.core.extensions import db
from matchmaker.fairs.organize import get_fair, slot_times
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Meeting, Suggestion

MEETING_LABELS = {
    "planned": "已排期",
    "confirmed": "已确认",
    "held": "已举行",
    "no_show": "未到场",
    "cancelled": "已取消",
}
HEADERS = ("时段", "时间", "桌号", "技术需求", "需求单位", "科技成果", "成果单位", "匹配度", "状态")


def agenda_rows(
    fair_id: int, organization_id: int | None = None, include_cancelled: bool = False
) -> list[dict]:
    """Meetings of a fair in time order; only one organization's when one is given."""
    fair = get_fair(fair_id)
    slots = slot_times(fair)
    need_org, ach_org = aliased(Organization), aliased(Organization)
    query = (
        select(
            Meeting,
            Suggestion,
            Need.title,
            need_org.name,
            Achievement.title,
            ach_org.name,
            Need.organization_id,
            Achievement.organization_id,
        )
        .join(Suggestion, Suggestion.id == Meeting.suggestion_id)
        .join(Need, Need.id == Suggestion.need_id)
        .join(Achievement, Achievement.id == Suggestion.achievement_id)
        .join(need_org, need_org.id == Need.organization_id)
        .join(ach_org, ach_org.id == Achievement.organization_id)
        .where(Meeting.fair_id == fair.id)
        .order_by(Meeting.slot, Meeting.table_no, Meeting.id)
    )
    if organization_id is not None:
        query = query.where(
            or_(
                Need.organization_id == organization_id,
                Achievement.organization_id == organization_id,
            )
        )
    if not include_cancelled:
        query = query.where(Meeting.status != "cancelled")
    rows = []
    for m, pair, need, norg, ach, aorg, norg_id, aorg_id in db.session.execute(query):
        slot = slots[m.slot] if m.slot is not None and m.slot < len(slots) else None
        rows.append(
            {
                "meeting_id": m.id,
                "pair_id": pair.id,
                "pair_state": pair.state,
                "slot": None if m.slot is None else m.slot + 1,
                "time": slot.label if slot else "",
                "table": None if m.table_no is None else m.table_no + 1,
                "need": need,
                "need_org": norg,
                "need_org_id": norg_id,
                "achievement": ach,
                "achievement_org": aorg,
                "achievement_org_id": aorg_id,
                "score": round(pair.score, 3),
                "status": m.status,
                "status_label": MEETING_LABELS.get(m.status, m.status),
                "note": m.note,
            }
        )
    return rows


def agenda_xlsx(fair_id: int, organization_id: int | None = None) -> bytes:
    """The agenda as an .xlsx workbook, through the neutralising export writer."""
    fair = get_fair(fair_id)
    rows = [
        [
            r["slot"],
            r["time"],
            r["table"],
            r["need"],
            r["need_org"],
            r["achievement"],
            r["achievement_org"],
            r["score"],
            r["status_label"],
        ]
        for r in agenda_rows(fair.id, organization_id)
    ]
    widths = dict(zip("ABCDEFGHI", (6, 14, 6, 36, 24, 36, 24, 8, 8), strict=True))
    sheet = Sheet(
        "日程",
        HEADERS,
        rows,
        preface=[[f"{fair.name}（{fair.held_on:%Y-%m-%d}，{fair.venue}）"]],
        widths=widths,
    )
    return write_sheets([sheet], "xlsx")
