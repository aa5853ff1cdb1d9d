"""The funnel per broker and per field: how many pairs reached each stage, and how fast."""

from collections import defaultdict
from itertools import pairwise
from statistics import median

from sqlalchemy import select

from matchmaker.accounts.models import User
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.exports import Sheet, write_sheets
from matchmaker.core.extensions import db
from matchmaker.pairs.models import Contract, PairEvent, Suggestion
from matchmaker.pairs.states import PATH, PairState

GROUPINGS = {"broker": "技术经纪人", "field": "技术领域"}
COUNTS = (
    ("reviewed", "已审核"),
    ("recommended", "已推荐"),
    ("interested", "有意向"),
    ("meetings", "约见"),
    ("intentions", "合作意向"),
    ("contracts", "签约"),
)
# Consecutive stages whose median gap in days is reported.
GAPS = tuple(pairwise(PATH))
STAGE_REACHED = {
    PairState.RECOMMENDED: PairState.RECOMMENDED,
    "meetings": PairState.MEETING_SCHEDULED,
    "intentions": PairState.INTENTION,
    "contracts": PairState.CONTRACT,
}


def _group_key(pair: Suggestion, by: str, brokers: dict) -> str:
    if by == "broker":
        user = brokers.get(pair.broker_id)
        return (user.display_name or user.login) if user else "（未分配）"
    field = pair.need.primary_field or pair.achievement.primary_field
    return field.name if field else "（未分类）"


def figures(by: str = "broker", viewer: User | None = None) -> list[dict]:
    """One row per broker or field, plus a total row last; a broker `viewer` gets only the
    pairs they work (their own row), staff and the CLI everything."""
    if by not in GROUPINGS:
        raise ServiceError("分组方式须为 broker 或 field", field="by")
    events = defaultdict(list)
    for event in db.session.scalars(
        select(PairEvent).where(PairEvent.kind.in_(("transition", "answer"))).order_by(PairEvent.id)
    ):
        events[event.suggestion_id].append(event)
    contracts = {c.suggestion_id: c for c in db.session.scalars(select(Contract))}
    brokers = {u.id: u for u in db.session.scalars(select(User).where(User.role != "institute"))}
    stmt = select(Suggestion).where(Suggestion.id.in_(list(events) or [-1]))
    if viewer is not None and viewer.role != "staff":
        stmt = stmt.where(Suggestion.broker_id == viewer.id)
    worked = db.session.scalars(stmt).all()
    groups: dict[str, dict] = {}
    total = _empty("合计")
    for pair in worked:
        key = _group_key(pair, by, brokers)
        row = groups.setdefault(key, _empty(key))
        for target in (row, total):
            _add(target, pair, events[pair.id], contracts.get(pair.id))
    rows = sorted(groups.values(), key=lambda r: (-r["recommended"], r["name"]))
    return [_finish(r) for r in rows] + [_finish(total)]


def _empty(name: str) -> dict:
    row = {"name": name, "contract_value": 0.0, "_gaps": {gap: [] for gap in GAPS}}
    row.update({key: 0 for key, _ in COUNTS})
    return row


def _add(row: dict, pair: Suggestion, events: list, contract) -> None:
    reached = {PairState.SUGGESTED: pair.created_at}
    for event in events:
        reached.setdefault(event.to_state, event.at)
    if any(e.from_state == PairState.SUGGESTED and e.kind == "transition" for e in events):
        row["reviewed"] += 1
    if "interested" in (pair.need_answer, pair.achievement_answer):
        row["interested"] += 1
    for key, state in STAGE_REACHED.items():
        if state in reached:
            row[key] += 1
    if contract is not None:
        row["contract_value"] += float(contract.amount)
    for start, end in GAPS:
        if start in reached and end in reached:
            row["_gaps"][(start, end)].append(
                (reached[end] - reached[start]).total_seconds() / 86400
            )


def _finish(row: dict) -> dict:
    gaps = row.pop("_gaps")
    row["median_days"] = {
        f"{a}→{b}": round(median(values), 1) if values else None for (a, b), values in gaps.items()
    }
    row["contract_value"] = round(row["contract_value"], 2)
    return row


def header(by: str) -> list[str]:
    gaps = [f"{a}→{b}（中位天数）" for a, b in GAPS]
    return [GROUPINGS[by]] + [label for _, label in COUNTS] + ["合同金额（万元）"] + gaps


def table(by: str, viewer: User | None = None) -> list[list]:
    """Rows of plain values for export, header first."""
    found = figures(by, viewer)  # checks `by` before the header names it
    rows = [header(by)]
    for row in found:
        rows.append(
            [row["name"]]
            + [row[key] for key, _ in COUNTS]
            + [row["contract_value"]]
            + [row["median_days"][f"{a}→{b}"] for a, b in GAPS]
        )
    return rows


def export(by: str, fmt: str, viewer: User | None = None) -> bytes:
    """The figures as .csv or .xlsx through the neutralising export writer."""
    rows = table(by, viewer)
    return write_sheets([Sheet("按" + GROUPINGS[by], rows[0], rows[1:])], fmt)


def to_csv(by: str, viewer: User | None = None) -> bytes:
    return export(by, "csv", viewer)


def to_xlsx(by: str, viewer: User | None = None) -> bytes:
    return export(by, "xlsx", viewer)
