"""What of a listing each viewer may see: the public catalogue and its confidential parts.

Title, fields, keywords, maturity, modes and summary are public once a listing is published. The
poster may mark the detailed description, the price or budget, and the patents as confidential,
and may hide the organization. Contacts are always confidential (issue 17, finding 8). The full
listing is shown to staff, brokers, the posting organization and the parties of a pair with it
that a broker recommended; contacts reach a pair's party only once both sides are interested,
the same rule the pair page follows.
"""

from matchmaker.accounts.models import User
from matchmaker.core.listing_pairs import listing_pairs
from matchmaker.listings.forms import CONFIDENTIAL_PARTS

ALWAYS = ("contact",)
# The listing attributes each part covers.
PART_KEYS = {
    "description": ("description",),
    "price": ("price_min", "price_max", "budget_min", "budget_max"),
    "patents": ("patents",),
    "contact": ("contact_name", "contact_phone"),
}
HIDDEN_ORGANIZATION = "（发布单位未公开）"


def _signed_in(user) -> bool:
    # A member still waiting for approval to join sees what a visitor sees.
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_member", True)
    )


def _own(user, listing) -> bool:
    return user.organization_id is not None and user.organization_id == listing.organization_id


def pair_access(user, kind_name: str) -> dict[int, bool]:
    """Listings of this kind in a recommended pair with the user's organization on the other
    side, each with whether both sides of such a pair are interested."""
    if not _signed_in(user) or user.role not in ("institute", "enterprise"):
        return {}
    if user.organization_id is None:
        return {}
    return listing_pairs().party_access(user, kind_name)


class Viewer:
    """One viewer's access to listings of one kind; looks the viewer's pairs up once."""

    def __init__(self, user: User | None, kind_name: str):
        # current_user is a proxy: unwrapped once, not looked up again for every row and part.
        user = getattr(user, "_get_current_object", lambda: user)()
        self.user = user if _signed_in(user) else None
        self.kind_name = kind_name
        self._pairs: dict[int, bool] | None = None

    @property
    def sees_all(self) -> bool:
        return self.user is not None and self.user.role in ("staff", "broker")

    def _full(self, listing) -> bool:
        return self.sees_all or (self.user is not None and _own(self.user, listing))

    def _pair(self, listing) -> bool | None:
        if self._pairs is None:
            self._pairs = pair_access(self.user, self.kind_name)
        return self._pairs.get(listing.id)

    def hidden_parts(self, listing) -> set[str]:
        """The confidential parts this viewer may not see (empty: sees everything)."""
        if self._full(listing):
            return set()
        marked = set(listing.confidential or ()) | set(ALWAYS)
        both = self._pair(listing) if self.user is not None else None
        if both is None:
            return marked
        return set() if both else {"contact"}

    def organization_hidden(self, listing) -> bool:
        if not listing.hide_organization or self._full(listing):
            return False
        return self.user is None or self._pair(listing) is None

    def hidden_keys(self, listing) -> set[str]:
        """Attribute names to leave out for this viewer."""
        return {key for part in self.hidden_parts(listing) for key in PART_KEYS[part]}


def part_labels(parts) -> list[str]:
    return [CONFIDENTIAL_PARTS[p] for p in CONFIDENTIAL_PARTS if p in parts]
