"""Check what people type into a listing: forms, JSON bodies and spreadsheet rows.

The rules live in `listings.schemas`, declared once; this module is the form-and-import face of
them. Every problem is reported against its field with a message in Chinese.
"""

from datetime import date

from matchmaker.core.schemas import Checked, check
from matchmaker.listings.schemas import CONFIDENTIAL_PARTS, INPUTS

__all__ = ["CONFIDENTIAL_PARTS", "Checked"]

# Field labels, read off the declarations (a need's description is labelled 需求描述 in its
# messages, but the change log of either kind calls it 详细介绍).
LABELS = {
    name: info.title
    for model in (INPUTS["achievement"], INPUTS["need"])
    for name, info in model.model_fields.items()
}
LABELS["description"] = INPUTS["achievement"].model_fields["description"].title
KIND_KEYS = {kind: tuple(model.model_fields) for kind, model in INPUTS.items()}
# Text the matcher reads: a change here bumps the listing's revision and re-indexes it.
MATCHABLE = ("title", "description", "keywords", "summary", "fields")


def check_listing(
    kind: str, raw: dict, complete: bool, today: date, deadline_changed: bool = True
) -> Checked:
    """Check a listing's values; `complete` demands what a submission for review needs."""
    context = {"complete": complete, "today": today, "deadline_changed": deadline_changed}
    checked = check(INPUTS[kind], raw, **context)
    if "confidential" not in raw:  # an edit that does not name it keeps the stored choice
        checked.values.pop("confidential", None)
        checked.errors.pop("confidential", None)
    return checked


def listing_values(kind: str, listing) -> dict:
    """The current values of a listing in the shape check_listing accepts."""
    values = {key: getattr(listing, key) for key in KIND_KEYS[kind] if key != "fields"}
    values["fields"] = [str(f.id) for f in listing.fields]
    return values
