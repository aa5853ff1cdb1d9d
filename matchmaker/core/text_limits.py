"""Length caps for free text that people type (notes, reasons, messages), with Chinese field errors.

Every page that shows such text shows all of it, so an uncapped note of a million characters makes
a page of megabytes. Services check their free-text inputs here before they store them.
"""

from matchmaker.core.exceptions import ServiceError

NOTE_MAX = 2000


def check_length(value: str | None, limit: int, label: str, field: str) -> str:
    """The value itself, or a ServiceError on `field` when it is longer than `limit` characters."""
    value = value or ""
    if len(value) > limit:
        raise ServiceError(f"{label}不能超过{limit}个字（现有{len(value)}个）", field=field)
    return value
