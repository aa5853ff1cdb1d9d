"""The bureau's local time (Beijing) and the naive UTC the database stores."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Fairs are run in the bureau's local time; timestamps are stored in UTC (naive) like the rest.
LOCAL_TIME = ZoneInfo("Asia/Shanghai")


def to_utc(local: datetime) -> datetime:
    """A naive local (Beijing) time as naive UTC."""
    return local.replace(tzinfo=LOCAL_TIME).astimezone(UTC).replace(tzinfo=None)


def to_local(utc: datetime | None) -> datetime | None:
    """A naive UTC time as naive local (Beijing) time, for display."""
    if utc is None:
        return None
    return utc.replace(tzinfo=UTC).astimezone(LOCAL_TIME).replace(tzinfo=None)
