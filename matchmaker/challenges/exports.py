"""Spreadsheets of this package: the published list and the registration sheet."""

import io

from openpyxl import Workbook

from matchmaker.challenges import registration
from matchmaker.services.listing_files import neutralize

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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(title: str, header, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append([neutralize(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def list_xlsx(rows: list[dict]) -> bytes:
    """The bottleneck list with the columns its page shows."""
    return _book(
        "卡脖子技术问题清单",
        [label for _key, label in LIST_COLUMNS],
        ([row[key] for key, _label in LIST_COLUMNS] for row in rows),
    )


def registrations_xlsx(rows) -> bytes:
    return _book(
        "技术合同登记",
        registration.SHEET_COLUMNS,
        (registration.sheet_row(row) for row in rows),
    )
