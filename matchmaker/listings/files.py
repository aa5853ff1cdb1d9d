"""Reading listing spreadsheets safely, and writing exports that spreadsheets cannot execute.

An upload is treated as hostile: its size is capped, an .xlsx zip is measured (entry count and
uncompressed size) before openpyxl opens it, openpyxl parses XML through defusedxml, and rows are
counted while they stream so a sheet cannot make us read more than the cap.
"""

import csv
import io
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

import openpyxl

from matchmaker.core.exceptions import ServiceError
from matchmaker.core.exports import MIMETYPES, neutralize, write_table  # noqa: F401

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_ZIP_ENTRIES = 100
MAX_UNZIPPED = 60 * 1024 * 1024
MAX_BLANK_ROWS = 1000


class FileProblem(ServiceError):
    """The file as a whole cannot be read; reported against the upload field."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def read_rows(filename: str, data: bytes, max_rows: int = MAX_ROWS) -> Iterator[list[str]]:
    """Yield the rows of a .csv or .xlsx upload as lists of text, header first."""
    name = (filename or "").lower()
    if not data:
        raise FileProblem("文件是空的，请选择填好的模板文件")
    if len(data) > MAX_BYTES:
        raise FileProblem(f"文件太大（上限 {MAX_BYTES // 1024 // 1024} MB），请分批导入")
    if name.endswith(".csv"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif name.endswith(".xls"):
        raise FileProblem("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV")
    else:
        raise FileProblem("只支持 .xlsx 或 .csv 文件")
    return _capped(rows, max_rows)


def _capped(rows: Iterator[list[str]], max_rows: int) -> Iterator[list[str]]:
    filled = blank = 0
    for row in rows:
        if not any(row):
            blank += 1
            if blank > MAX_BLANK_ROWS:
                raise FileProblem(f"文件中空行过多（超过 {MAX_BLANK_ROWS} 行），请删除空行后再试")
            continue
        filled += 1
        if filled > max_rows + 1:  # +1 for the header
            raise FileProblem(f"数据行数超过上限 {max_rows} 行，请分批导入")
        yield row


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise FileProblem("文件不是文本格式的 CSV（可能是其他类型的文件改了扩展名）")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GB18030（GBK）编码")


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            yield [cell.strip() for cell in row]
    except csv.Error as e:
        raise FileProblem(f"CSV 格式有误：{e}") from None


def _check_zip(data: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileProblem("不是有效的 .xlsx 文件（文件已损坏或不是 Excel 格式）")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem("不是有效的 .xlsx 文件（压缩包已损坏）") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileProblem(f".xlsx 文件内部条目过多（{len(entries)} 个），已拒绝")
    if sum(e.file_size for e in entries) > MAX_UNZIPPED:
        raise FileProblem(".xlsx 文件解压后过大，已拒绝（可能是压缩炸弹）")
    if not any(e.filename == "xl/workbook.xml" for e in entries):
        raise FileProblem("不是有效的 .xlsx 文件（缺少工作簿）")


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    _check_zip(data)
    if not openpyxl.DEFUSEDXML:
        raise FileProblem("服务器未启用安全的 XML 解析，暂不能导入 .xlsx，请改用 CSV")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # any parser failure of a hostile or broken file is the user's problem
        raise FileProblem(f"无法读取 .xlsx 文件：{type(e).__name__}") from None
    try:
        if not book.worksheets:
            raise FileProblem(".xlsx 文件中没有工作表")
        sheet = book.worksheets[0]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for row in sheet.iter_rows(values_only=True):
                    yield [_cell_text(v) for v in row]
        except FileProblem:
            raise
        except Exception as e:
            raise FileProblem(f"无法读取 .xlsx 文件内容：{type(e).__name__}") from None
    finally:
        book.close()
