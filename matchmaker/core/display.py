"""Jinja filters that show stored values the same way on every page."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app


def display_zone() -> ZoneInfo:
    """The zone every page shows times in (setting DISPLAY_TIMEZONE, Asia/Shanghai by default)."""
    name = current_app.config.get("DISPLAY_TIMEZONE") or "Asia/Shanghai"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) time in the display zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(display_zone())


def localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a stored time in the display zone; dates pass through."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return to_local(value).strftime(fmt)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def localdate(value) -> str:
    return localtime(value, "%Y-%m-%d")


def zone_label() -> str:
    """How the display zone is named next to times, e.g. 北京时间."""
    name = display_zone().key
    return "北京时间" if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else name


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(localdate, "localdate")
    app.add_template_global(zone_label, "zone_label")
    app.add_template_global(amount_range, "amount_range")


def amount_range(low, high) -> str:
    """A price or budget range in 万元 as listings show it (a function rather than a macro: a
    catalogue page shows one per row, and a macro call cost several times as much)."""
    if low is None and high is None:
        return "面议"
    if high is None:
        return f"{money(low)}起"
    if low is None:
        return f"不超过 {money(high)}"
    return f"{money(low)}–{money(high)}"


def money(amount_wan: Decimal | float | int) -> str:
    """Show an amount of 万元 the way the report does: 亿元 from 1 亿 up."""
    value = Decimal(amount_wan or 0)
    if value >= 10000:
        return f"{(value / 10000).quantize(Decimal('0.01'))}亿元"
    return f"{value.quantize(Decimal('0.01'))}万元"
