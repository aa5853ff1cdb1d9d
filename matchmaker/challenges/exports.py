"""Spreadsheets of this package: the published list and the registration sheet."""

from matchmaker.challenges import registration
from matchmaker.core.exports import XLSX, write_table

LIST_COLUMNS = (
    ("number", "编号"),
    ("title", "问题名称"),
    ("organization", "提出单位"),
    ("field", "技术领域"),
    ("category", "类别"),
    ("difficulty", "难度"),
    ("expected_funding", "预计投入（万元）"),
    ("deadline", "截止日期"),
)
__all__ = ["XLSX", "list_xlsx", "registrations_xlsx"]


def list_xlsx(rows: list[dict]) -> bytes:
    """The bottleneck list with the columns its page shows."""
    return write_table(
        [label for _key, label in LIST_COLUMNS],
        ([row[key] for key, _label in LIST_COLUMNS] for row in rows),
        "xlsx",
        "卡脖子技术问题清单",
    )


def registrations_xlsx(rows) -> bytes:
    return write_table(
        list(registration.SHEET_COLUMNS),
        (registration.sheet_row(row) for row in rows),
        "xlsx",
        "技术合同登记",
    )
