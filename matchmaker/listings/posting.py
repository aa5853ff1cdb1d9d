"""Posting achievements and needs: create, edit, submit, withdraw, close, and staff review.

Who may do what is decided here, per record, so every view and API endpoint gets the same answer.
Listings another user may not see are reported as not found, so ids reveal nothing.
"""

from datetime import date

from sqlalchemy import func, select

from matchmaker.accounts.models import Organization, User
from matchmaker.core import signals
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings.access import (  # noqa: F401  (read through this module by callers)
    MAX_ID,
    _user,
    acting,
    can_manage,
    can_see_suggestions,
    can_view,
    get_manageable,
    get_visible,
    is_owner,
    load,
)
from matchmaker.listings.forms import KIND_KEYS, LABELS, MATCHABLE, check_listing, listing_values
from matchmaker.listings.index import reindex, reindex_all  # noqa: F401  (hooks)
from matchmaker.listings.kinds import (  # noqa: F401  (re-exported)
    ACTION_LABELS,
    KINDS,
    STATUS_LABELS,
    Kind,
    kind_of,
)
from matchmaker.listings.models import MATURITY_TRL, ListingEvent

EDITABLE = ("draft", "pending", "returned", "published")


def _record(kind: Kind, listing, action: str, from_status, actor: User | None, note: str = ""):
    db.session.add(
        ListingEvent(
            kind=kind.name,
            listing_id=listing.id,
            action=action,
            from_status=from_status,
            to_status=listing.status,
            actor_id=actor.id if actor else None,
            note=note,
        )
    )


def poster_organization(user: User, kind: Kind, organization_id=None) -> Organization:
    """The organization a new listing belongs to: the poster's own, or one staff pick."""
    if user.role == "staff":
        if organization_id in (None, ""):
            raise ServiceError("请选择发布单位", field="organization_id")
        try:
            org_id = int(organization_id)
        except (TypeError, ValueError, OverflowError):
            org_id = 0
        org = db.session.get(Organization, org_id) if 0 < org_id <= MAX_ID else None
        if org is None:
            raise ServiceError("发布单位不存在", field="organization_id")
        if org.kind not in kind.org_kinds:
            raise ServiceError(f"该单位类型不能发布{kind.label}", field="organization_id")
        return org
    if user.role != kind.role or user.organization is None:
        raise Forbidden(f"当前角色不能发布{kind.label}")
    if user.organization.kind not in kind.org_kinds:
        raise Forbidden(f"本单位类型不能发布{kind.label}")
    if user.organization.status != "approved":
        raise Forbidden("本单位尚未通过审核，暂不能发布信息")
    return user.organization


def _check(kind: Kind, raw: dict, complete: bool, deadline_changed: bool = True, skip_id=None):
    checked = check_listing(kind.name, raw, complete, date.today(), deadline_changed)
    ref = checked.values.get("external_ref")
    if ref:
        other = db.session.scalar(select(kind.model.id).where(kind.model.external_ref == ref))
        if other is not None and other != skip_id:
            checked.errors.setdefault("external_ref", f"外部编号已被使用：{ref}")
    if checked.errors:
        first = next(iter(checked.errors.values()))
        raise ServiceError(
            f"请修改标出的{len(checked.errors)}处问题：{first}", errors=checked.errors
        )
    values = checked.values
    values["external_ref"] = values.get("external_ref") or None
    if kind.name == "achievement":
        values["trl"] = MATURITY_TRL.get(values.get("maturity")) if values.get("maturity") else None
    return values


def _apply(listing, values: dict) -> list[str]:
    changed = []
    for key, value in values.items():
        if getattr(listing, key) != value:
            setattr(listing, key, value)
            changed.append(key)
    return changed


def create_listing(kind_name: str, user_id: int, raw: dict, submit: bool = False):
    """Save a new listing as a draft (or straight into review when `submit`)."""
    kind = kind_of(kind_name)
    user = _user(user_id)
    if user is None:
        raise Forbidden("需要登录")
    org = poster_organization(user, kind, raw.get("organization_id"))
    values = _check(kind, _known(kind, raw), complete=submit)
    if not raw.get("confirm_duplicate"):
        _refuse_duplicate(kind, org.id, values.get("title") or "")
    listing = kind.model(organization=org, status="draft", revision=1)
    _apply(listing, values)
    db.session.add(listing)
    db.session.flush()
    _record(kind, listing, "created", None, user)
    if submit:
        _submit(kind, listing, user)
    db.session.commit()
    return listing


def same_title(kind: Kind, org_id: int, title: str) -> int | None:
    """An open listing of the organization with this title (what the import flags as duplicate)."""
    if not title:
        return None
    return db.session.scalar(
        select(kind.model.id).where(
            kind.model.organization_id == org_id,
            func.lower(kind.model.title) == title.strip().lower(),
            kind.model.status != "closed",
        )
    )


def _refuse_duplicate(kind: Kind, org_id: int, title: str) -> None:
    existing = same_title(kind, org_id, title)
    if existing:
        message = f"与已有{kind.label}（编号{existing}）重复：同一单位、同一标题"
        raise ServiceError(
            message,
            errors={"title": message, "confirm_duplicate": "确认不是重复后勾选“仍然保存”"},
        )


def _known(kind: Kind, raw: dict) -> dict:
    return {key: raw.get(key) for key in KIND_KEYS[kind.name] if key in raw}


def update_listing(kind_name: str, listing_id: int, user_id: int, raw: dict):
    """Edit a listing of one's own organization (staff: any); only given keys change."""
    kind = kind_of(kind_name)
    user = _user(user_id)
    listing = get_manageable(kind.name, listing_id, user)
    if listing.status not in EDITABLE:
        raise Conflict(f"{STATUS_LABELS[listing.status]}的{kind.label}不能修改")
    merged = listing_values(kind.name, listing)
    merged.update(_known(kind, raw))
    deadline_changed = (
        kind.name == "need"
        and "deadline" in raw
        and (str(raw.get("deadline") or "")[:10] != str(listing.deadline or ""))
    )
    values = _check(
        kind,
        merged,
        complete=listing.status != "draft",
        deadline_changed=deadline_changed,
        skip_id=listing.id,
    )
    changed = _apply(listing, values)
    if not changed:
        return listing
    matchable = [key for key in changed if key in MATCHABLE]
    if matchable:
        listing.revision = (listing.revision or 1) + 1
    listing.updated_at = utcnow()
    note = "、".join(LABELS[key] for key in changed if key in LABELS)
    before = listing.status
    if matchable and before == "published" and user.role != "staff" and _edits_reviewed():
        # Text the public reads changed: it goes back to staff before it is shown again.
        listing.status = "pending"
        listing.submitted_at = utcnow()
        _record(kind, listing, "edited", before, user, note + "（修改后重新审核）")
        db.session.commit()
        signals.listing_withdrawn.send(kind.name, listing_id=listing.id)
        return listing
    _record(kind, listing, "edited", listing.status, user, note)
    db.session.commit()
    if matchable and listing.status == "published":
        signals.listing_published.send(kind.name, listing_id=listing.id)
    return listing


def _edits_reviewed() -> bool:
    """Setting LISTING_EDIT_REVIEW: "review" (default) or "log" (stay published, keep history)."""
    from flask import current_app

    return current_app.config.get("LISTING_EDIT_REVIEW", "review") != "log"


def _submit(kind: Kind, listing, user: User) -> None:
    before = listing.status
    listing.status = "pending"
    listing.submitted_at = utcnow()
    _record(kind, listing, "submitted", before, user)


def submit_listing(kind_name: str, listing_id: int, user_id: int):
    """Send a draft or returned listing to staff review, after the full check."""
    kind = kind_of(kind_name)
    user = _user(user_id)
    listing = get_manageable(kind.name, listing_id, user)
    if listing.status not in ("draft", "returned"):
        raise Conflict(f"{STATUS_LABELS[listing.status]}的{kind.label}不能提交审核")
    _check(
        kind,
        listing_values(kind.name, listing),
        complete=True,
        deadline_changed=True,
        skip_id=listing.id,
    )
    _submit(kind, listing, user)
    db.session.commit()
    return listing


def withdraw_listing(kind_name: str, listing_id: int, user_id: int):
    """Take a pending or published listing back to draft."""
    kind = kind_of(kind_name)
    user = _user(user_id)
    listing = get_manageable(kind.name, listing_id, user)
    if listing.status not in ("pending", "published"):
        raise Conflict(f"{STATUS_LABELS[listing.status]}的{kind.label}不能撤回")
    before = listing.status
    listing.status = "draft"
    _record(kind, listing, "withdrawn", before, user)
    db.session.commit()
    if before == "published":
        signals.listing_withdrawn.send(kind.name, listing_id=listing.id)
    return listing


def close_listing(kind_name: str, listing_id: int, user_id: int, note: str = ""):
    """Close a listing for good (found a partner, no longer offered)."""
    kind = kind_of(kind_name)
    user = _user(user_id)
    listing = get_manageable(kind.name, listing_id, user)
    if listing.status in ("closed", "rejected"):
        raise Conflict(f"{STATUS_LABELS[listing.status]}的{kind.label}不能关闭")
    before = listing.status
    listing.status = "closed"
    _record(kind, listing, "closed", before, user, _note(note))
    db.session.commit()
    if before == "published":
        signals.listing_withdrawn.send(kind.name, listing_id=listing.id)
    return listing


def _note(note) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise ServiceError("说明应为文本", field="reason")
    note = note.replace("\x00", "").strip()
    if len(note) > 1000:
        raise ServiceError("说明不能超过1000个字", field="reason")
    return note


DECISIONS = {"publish": "published", "return": "returned", "reject": "rejected"}


def review_listing(kind_name: str, listing_id: int, user_id: int, decision, reason=""):
    """Staff decide on a pending listing: publish, return for revision (with reason), reject."""
    kind = kind_of(kind_name)
    user = _user(user_id)
    if user is None or user.role != "staff":
        raise Forbidden("只有工作人员可以审核")
    listing = load(kind, listing_id)
    if listing is None:
        raise NotFound(f"{kind.label}不存在")
    if not isinstance(decision, str) or decision not in DECISIONS:
        raise ServiceError("请选择审核结论：发布、退回修改或不通过", field="decision")
    reason = _note(reason)
    if decision != "publish" and not reason:
        raise ServiceError("退回或不通过时请填写原因，发布方会看到", field="reason")
    if listing.status != "pending":
        raise Conflict(f"该{kind.label}当前为“{STATUS_LABELS[listing.status]}”，不在待审核状态")
    before = listing.status
    listing.status = DECISIONS[decision]
    listing.review_note = reason
    if decision == "publish":
        listing.published_at = utcnow()
    _record(kind, listing, listing.status, before, user, reason)
    db.session.commit()
    if decision == "publish":
        signals.listing_published.send(kind.name, listing_id=listing.id)
    return listing


def history(kind_name: str, listing_id: int) -> list[ListingEvent]:
    """The listing's events, oldest first."""
    return list(
        db.session.scalars(
            select(ListingEvent)
            .where(ListingEvent.kind == kind_of(kind_name).name)
            .where(ListingEvent.listing_id == listing_id)
            .order_by(ListingEvent.id)
        )
    )


def top_suggestions(kind_name: str, listing, user: User | None, limit: int = 10) -> list:
    """The listing's best active suggestions, with the counterpart the user may see."""
    from matchmaker.core.listing_pairs import listing_pairs

    kind = kind_of(kind_name)
    if not can_see_suggestions(user, kind, listing):
        return []
    rows = listing_pairs().ranked(kind.name, listing.id, limit * 3)
    out = []
    for row in rows:
        other = row.achievement if kind.name == "need" else row.need
        if can_view(user, other):
            out.append((row, other))
    return out[:limit]
