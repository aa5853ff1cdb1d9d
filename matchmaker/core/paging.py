"""The one parser of `page` and `per_page` query parameters, for every paginated page and the API.

A page number is a plain positive integer up to MAX_PAGE: anything else (letters, signs, other
scripts' digits, 20-digit numbers that overflow the database's OFFSET) is a field error, never a
500. Pages and the API show the error the same way as any other bad input.
"""

from collections.abc import Mapping

from matchmaker.core.exceptions import ServiceError

MAX_PAGE = 100000
MAX_DIGITS = 9
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


def _positive(raw, key: str, fallback: int, top: int, errors: dict) -> int:
    if raw is None or raw == "":
        return fallback
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()):
        errors[key] = "应为正整数"
        return fallback
    if len(text) > MAX_DIGITS or not 1 <= int(text) <= top:
        errors[key] = f"应在1到{top}之间"
        return fallback
    value = int(text)
    return value


def page_args(
    args: Mapping, default: int = 20, max_per_page: int = 100, max_page: int = MAX_PAGE
) -> tuple[int, int]:
    """(page, per_page) from query arguments; a ServiceError names each bad parameter."""
    errors: dict[str, str] = {}
    page = _positive(args.get("page"), "page", 1, max_page, errors)
    per_page = _positive(args.get("per_page"), "per_page", default, max_per_page, errors)
    if errors:
        raise ServiceError("页码参数有误：" + next(iter(errors.values())), errors=errors)
    return page, per_page


def page_number(args: Mapping, max_page: int = MAX_PAGE) -> int:
    """Only the page number, for pages whose page size is fixed."""
    errors: dict[str, str] = {}
    page = _positive(args.get("page"), "page", 1, max_page, errors)
    if errors:
        raise ServiceError("页码参数有误：" + errors["page"], errors=errors)
    return page


def positive_int(raw, top: int = MAX_ID) -> int | None:
    """A database id or count typed by someone: a plain positive integer up to `top`, else None."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(top)):
        return None
    value = int(text)
    return value if 1 <= value <= top else None
