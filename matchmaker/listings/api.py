"""Achievements and needs over JSON: search, CRUD, submit/withdraw/close and staff review."""

from flask import request
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.api import bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.schemas import check
from matchmaker.listings import posting as service
from matchmaker.listings.api_doc import document_listings
from matchmaker.listings.confidential import HIDDEN_ORGANIZATION, Viewer
from matchmaker.listings.schemas import PostingOptions
from matchmaker.listings.search import page_args, parse_filters, search

KINDS = "<any(achievements, needs):kinds>"


def _amount(value):
    return None if value is None else float(value)


def _user():
    # Unwrapped: the proxy costs a lookup on every attribute read, and a list reads many.
    return current_user._get_current_object() if current_user.is_authenticated else None


def listing_json(kind: service.Kind, row, viewer: Viewer | None = None) -> dict:
    """A listing as the API shows it to the current user (confidential parts left out)."""
    viewer = viewer or Viewer(_user(), kind.name)
    org = row.organization
    data = {
        "id": row.id,
        "kind": kind.name,
        "title": row.title,
        "description": row.description,
        "keywords": list(row.keywords or []),
        "fields": [f.name for f in row.fields],
        "organization": {"id": org.id, "name": org.name, "kind": org.kind, "region": org.region},
        "status": row.status,
        "external_ref": row.external_ref,
        "contact_name": row.contact_name,
        "contact_phone": row.contact_phone,
        "revision": row.revision,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "published_at": row.published_at.isoformat() if row.published_at else None,
    }
    data["confidential"] = list(row.confidential or [])
    data["hide_organization"] = bool(row.hide_organization)
    if service.can_manage(viewer.user, kind, row):
        data["review_note"] = row.review_note
    if kind.name == "achievement":
        data.update(
            summary=row.summary,
            maturity=row.maturity,
            trl=row.trl,
            transfer_modes=list(row.transfer_modes or []),
            patents=list(row.patents or []),
            price_min=_amount(row.price_min),
            price_max=_amount(row.price_max),
        )
    else:
        data.update(
            budget_min=_amount(row.budget_min),
            budget_max=_amount(row.budget_max),
            deadline=row.deadline.isoformat() if row.deadline else None,
            cooperation_modes=list(row.cooperation_modes or []),
            is_bottleneck=bool(row.is_bottleneck),
        )
    hidden = viewer.hidden_keys(row)
    for key in hidden:
        data.pop(key, None)
    data["hidden"] = sorted(viewer.hidden_parts(row))
    if viewer.organization_hidden(row):
        data["organization"] = {
            "id": None,
            "name": HIDDEN_ORGANIZATION,
            "kind": None,
            "region": None,
        }
    return data


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError("请求体应为 JSON 对象", field="body")
    return body


# Public, like the catalogue pages: anonymous callers get published listings without their
# confidential parts.
@bp.get(f"/{KINDS}")
def list_listings(kinds: str):
    kind = service.kind_of(kinds)
    filters = parse_filters(kind.name, request.args)
    page, per_page = page_args(request.args)
    user = _user()
    if filters.mine and user is None:
        return {"error": "unauthorized", "message": "需要登录或有效的令牌"}, 401
    result = search(kind.name, user, filters, page, per_page)
    viewer = Viewer(user, kind.name)
    return {
        "items": [listing_json(kind, row, viewer) for row in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
        "terms": result.terms,
    }


@bp.post(f"/{KINDS}")
@roles_required("institute", "enterprise", "staff")
def create_listing(kinds: str):
    kind = service.kind_of(kinds)
    body = _body()
    options = check(PostingOptions, body)
    if options.errors:
        raise ServiceError(next(iter(options.errors.values())), errors=options.errors)
    row = service.create_listing(kind.name, current_user.id, body, submit=options.row.submit)
    return listing_json(kind, row), 201


@bp.get(f"/{KINDS}/<int:listing_id>")
def get_listing(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    return listing_json(kind, service.get_visible(kind.name, listing_id, _user()))


@bp.patch(f"/{KINDS}/<int:listing_id>")
@roles_required("institute", "enterprise", "staff")
def update_listing(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    row = service.update_listing(kind.name, listing_id, current_user.id, _body())
    return listing_json(kind, row)


ACTIONS = {
    "submit": service.submit_listing,
    "withdraw": service.withdraw_listing,
    "close": service.close_listing,
}


@bp.post(f"/{KINDS}/<int:listing_id>/<any(submit, withdraw, close):action>")
@roles_required("institute", "enterprise", "staff")
def act(kinds: str, listing_id: int, action: str):
    kind = service.kind_of(kinds)
    row = ACTIONS[action](kind.name, listing_id, current_user.id)
    return listing_json(kind, row)


@bp.post(f"/{KINDS}/<int:listing_id>/review")
@roles_required("staff")
def review(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    body = _body()
    row = service.review_listing(
        kind.name, listing_id, current_user.id, body.get("decision"), body.get("reason", "")
    )
    return listing_json(kind, row)


@bp.get(f"/{KINDS}/<int:listing_id>/events")
@roles_required()
def events(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    row = service.get_visible(kind.name, listing_id, current_user)
    if not (
        service.can_manage(current_user, kind, row) or current_user.role in ("staff", "broker")
    ):
        return {"items": []}
    return {
        "items": [
            {
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor.display_name if e.actor else None,
                "note": e.note,
                "at": e.at.isoformat(),
            }
            for e in service.history(kind.name, row.id)
        ]
    }


@bp.get(f"/{KINDS}/<int:listing_id>/suggestions")
@roles_required()
def suggestions(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    row = service.get_visible(kind.name, listing_id, current_user)
    return {
        "items": [
            {
                "id": s.id,
                "score": s.score,
                "terms": s.terms,
                "state": s.state,
                "counterpart": {"id": other.id, "title": other.title},
                "pair_url": f"/pairs/{s.id}",
            }
            for s, other in service.top_suggestions(kind.name, row, current_user)
        ]
    }


document_listings()
