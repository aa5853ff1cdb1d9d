"""Who may see and manage a listing, and loading one under those rules."""

from matchmaker.accounts.models import User
from matchmaker.core.exceptions import Forbidden, NotFound
from matchmaker.core.extensions import db
from matchmaker.listings.kinds import Kind, kind_of


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id else None


def acting(user: User | None) -> User | None:
    """The user as far as listings go: a member waiting for approval counts as a visitor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user if getattr(user, "is_member", True) else None


def can_view(user: User | None, listing) -> bool:
    """Published listings are public; others only to their organization and staff."""
    user = acting(user)
    if user is not None and user.role == "staff":
        return True
    if listing.status == "published":
        return True
    if user is None:
        return False
    if user.role == "broker" and listing.status == "closed":
        return True
    return user.organization_id is not None and user.organization_id == listing.organization_id


def is_owner(user: User | None, kind: Kind, listing) -> bool:
    """A member of the listing's organization in the role that posts this kind."""
    user = acting(user)
    return (
        user is not None
        and user.role == kind.role
        and user.organization_id is not None
        and user.organization_id == listing.organization_id
    )


def can_manage(user: User | None, kind: Kind, listing) -> bool:
    user = acting(user)
    return user is not None and (user.role == "staff" or is_owner(user, kind, listing))


def can_see_suggestions(user: User | None, kind: Kind, listing) -> bool:
    user = acting(user)
    if user is None:
        return False
    return user.role in ("staff", "broker") or user.organization_id == listing.organization_id


MAX_ID = 2**31 - 1


def load(kind: Kind, listing_id):
    """The listing with this id, or None (ids outside the integer column's range included)."""
    if not isinstance(listing_id, int) or not 0 < listing_id <= MAX_ID:
        return None
    return db.session.get(kind.model, listing_id)


def get_visible(kind_name: str, listing_id: int, user: User | None):
    """Load a listing the user may see, or raise NotFound."""
    kind = kind_of(kind_name)
    listing = load(kind, listing_id)
    if listing is None or not can_view(user, listing):
        raise NotFound(f"{kind.label}不存在或无权查看")
    return listing


def get_manageable(kind_name: str, listing_id: int, user: User | None):
    """Load a listing the user may change, or raise NotFound / Forbidden."""
    kind = kind_of(kind_name)
    listing = get_visible(kind.name, listing_id, user)
    if not can_manage(user, kind, listing):
        raise Forbidden(f"只能管理本单位的{kind.label}")
    return listing
