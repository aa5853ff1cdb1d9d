"""Pages for achievements and needs: lists with filters, detail, posting forms, new arrivals."""

from functools import lru_cache

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from matchmaker.accounts.auth import roles_required
from matchmaker.accounts.models import Organization
from matchmaker.accounts.views import ORG_KIND_LABELS
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.once import once
from matchmaker.listings import posting as service
from matchmaker.listings.confidential import Viewer, part_labels
from matchmaker.listings.forms import CONFIDENTIAL_PARTS
from matchmaker.listings.models import MATURITY_TRL, TRANSFER_MODES
from matchmaker.listings.search import (
    FILTER_KEYS,
    Filters,
    new_since,
    page_args,
    parse_filters,
    pending_count,
    search,
)
from matchmaker.listings.taxonomy import field_choices

bp = Blueprint("listings", __name__, template_folder="templates")
KINDS = "<any(achievements, needs):kinds>"
LIST_KEYS = (
    "keywords",
    "fields",
    "transfer_modes",
    "cooperation_modes",
    "patents",
    "confidential",
)
ACTIONS = {
    "submit": (service.submit_listing, "已提交审核，工作人员审核通过后将公开发布"),
    "withdraw": (service.withdraw_listing, "已撤回为草稿"),
    "close": (service.close_listing, "已关闭"),
}


@bp.app_template_filter("highlight")
def highlight(text, terms) -> Markup:
    """Escape text and mark the search terms in it."""
    out = str(escape(text or ""))
    marked = False
    for safe in _escaped_longest_first(tuple(terms or ())):
        if safe in out:
            out = out.replace(safe, f"\x00{safe}\x01")
            marked = True
    if marked:
        out = out.replace("\x00", "<mark>").replace("\x01", "</mark>")
    return Markup(out)


@lru_cache(maxsize=256)
def _escaped_longest_first(terms: tuple) -> tuple:
    # A catalogue page highlights the same terms in every title, summary and keyword of its rows.
    return tuple(s for s in (str(escape(t)) for t in sorted(terms, key=len, reverse=True)) if s)


@bp.app_context_processor
def listing_labels():
    return {
        "STATUS_LABELS": service.STATUS_LABELS,
        "ACTION_LABELS": service.ACTION_LABELS,
        "ORG_KIND_LABELS": ORG_KIND_LABELS,
        "KIND_LABELS": {"achievements": "科技成果", "needs": "技术需求"},
    }


def _context(kind: service.Kind) -> dict:
    return {
        "kind": kind,
        "kinds": kind.plural,
        "all_fields": field_choices(),
        "maturities": list(MATURITY_TRL),
        "modes": TRANSFER_MODES,
        "confidential_parts": CONFIDENTIAL_PARTS,
    }


def _viewer_user():
    # Unwrapped: the proxy costs a lookup on every attribute read, and a page reads many.
    return current_user._get_current_object() if current_user.is_authenticated else None


def _can_post(kind: service.Kind) -> bool:
    user = _viewer_user()
    return user is not None and (user.role == "staff" or user.role == kind.role)


# The public catalogue: anyone may browse and search published listings; what the poster keeps
# confidential is left out per viewer (services/confidential.py).
@bp.get(f"/{KINDS}/")
def index(kinds: str):
    kind = service.kind_of(kinds)
    errors = {}
    try:
        filters = parse_filters(kind.name, request.args)
        page, per_page = page_args(request.args)
    except ServiceError as e:
        errors, filters, page, per_page = e.errors, Filters(), 1, 20
    user = _viewer_user()
    if filters.mine and user is None:
        return current_app.login_manager.unauthorized()
    result = search(kind.name, user, filters, page, per_page)
    args = {k: v for k, v in request.args.items() if k in FILTER_KEYS or k == "per_page"}
    return render_template(
        "listings/list.html",
        result=result,
        viewer=Viewer(user, kind.name),
        filters=filters,
        errors=errors,
        args=args,
        can_post=_can_post(kind),
        # A row's link is this prefix and its id: url_for for each of 20-100 rows cost more than
        # anything else in a card.
        detail_prefix=url_for("listings.detail", kinds=kind.plural, listing_id=0)[:-1],
        **_context(kind),
    ), (400 if errors else 200)


def _raw_form(kind: service.Kind) -> dict:
    raw = request.form.to_dict()
    for key in LIST_KEYS:
        if key in ("keywords", "patents"):
            continue
        raw[key] = request.form.getlist(key)
    raw["hide_organization"] = "1" if request.form.get("hide_organization") else "0"
    if kind.name == "need":
        raw["is_bottleneck"] = "1" if request.form.get("is_bottleneck") else "0"
    return raw


def _form_values(listing) -> dict:
    values = {
        key: getattr(listing, key)
        for key in (
            "title summary description contact_name contact_phone external_ref maturity "
            "price_min price_max budget_min budget_max deadline is_bottleneck"
        ).split()
        if hasattr(listing, key)
    }
    values["keywords"] = "、".join(listing.keywords or [])
    values["patents"] = "\n".join(getattr(listing, "patents", None) or [])
    values["fields"] = [str(f.id) for f in listing.fields]
    values["transfer_modes"] = getattr(listing, "transfer_modes", None) or []
    values["cooperation_modes"] = getattr(listing, "cooperation_modes", None) or []
    values["confidential"] = list(listing.confidential or [])
    values["hide_organization"] = bool(listing.hide_organization)
    return {k: ("" if v is None else v) for k, v in values.items()}


def _render_form(kind, values, errors, listing=None, status=200):
    orgs = []
    if current_user.role == "staff" and listing is None:
        orgs = db.session.scalars(
            select(Organization)
            .where(Organization.kind.in_(kind.org_kinds), Organization.status == "approved")
            .order_by(Organization.name)
        ).all()
    return render_template(
        "listings/form.html",
        form=values,
        errors=errors,
        listing=listing,
        orgs=orgs,
        **_context(kind),
    ), status


@bp.route(f"/{KINDS}/new", methods=["GET", "POST"])
@roles_required("institute", "enterprise", "staff")
@once
def new(kinds: str):
    kind = service.kind_of(kinds)
    if not _can_post(kind):
        abort(403)
    if request.method == "GET":
        return _render_form(kind, {}, {})
    raw = _raw_form(kind)
    raw["confirm_duplicate"] = request.form.get("confirm_duplicate", "")
    try:
        listing = service.create_listing(
            kind.name, current_user.id, raw, submit=request.form.get("action") == "submit"
        )
    except ServiceError as e:
        db.session.rollback()
        return _render_form(kind, raw, e.errors or {"form": e.message}, status=400)
    flash("已提交审核" if listing.status == "pending" else "草稿已保存", "success")
    return redirect(url_for("listings.detail", kinds=kind.plural, listing_id=listing.id))


@bp.route(f"/{KINDS}/<int:listing_id>/edit", methods=["GET", "POST"])
@roles_required("institute", "enterprise", "staff")
def edit(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    listing = service.get_manageable(kind.name, listing_id, current_user)
    if request.method == "GET":
        return _render_form(kind, _form_values(listing), {}, listing)
    raw = _raw_form(kind)
    try:
        service.update_listing(kind.name, listing.id, current_user.id, raw)
        if request.form.get("action") == "submit":
            service.submit_listing(kind.name, listing.id, current_user.id)
    except ServiceError as e:
        db.session.rollback()
        listing = service.get_manageable(kind.name, listing_id, current_user)
        return _render_form(kind, raw, e.errors or {"form": e.message}, listing, status=400)
    flash("已保存" if listing.status != "pending" else "已保存并提交审核", "success")
    return redirect(url_for("listings.detail", kinds=kind.plural, listing_id=listing.id))


@bp.post(f"/{KINDS}/<int:listing_id>/<any(submit, withdraw, close):action>")
@roles_required("institute", "enterprise", "staff")
def act(kinds: str, listing_id: int, action: str):
    kind = service.kind_of(kinds)
    function, message = ACTIONS[action]
    try:
        function(kind.name, listing_id, current_user.id)
    except ServiceError as e:
        if e.status in (403, 404):
            raise
        db.session.rollback()
        problems = "；".join(e.errors.values()) if e.errors else e.message
        flash(f"操作未完成：{problems}", "danger")
    else:
        flash(message, "success")
    return redirect(url_for("listings.detail", kinds=kind.plural, listing_id=listing_id))


@bp.get(f"/{KINDS}/<int:listing_id>")
def detail(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    user = _viewer_user()
    listing = service.get_visible(kind.name, listing_id, user)
    viewer = Viewer(user, kind.name)
    hidden = viewer.hidden_parts(listing)
    return render_template(
        "listings/detail.html",
        listing=listing,
        hidden=hidden,
        hidden_labels=part_labels(hidden),
        org_hidden=viewer.organization_hidden(listing),
        can_manage=service.can_manage(user, kind, listing),
        show_suggestions=service.can_see_suggestions(user, kind, listing),
        suggestions=service.top_suggestions(kind.name, listing, user),
        events=service.history(kind.name, listing.id),
        **_context(kind),
    )


@bp.get("/listings/new-since")
@roles_required("broker", "staff")
def since():
    only_mine = request.args.get("mine", "1" if current_user.fields else "0") == "1"
    found = new_since(current_user, only_my_fields=only_mine)
    pending = pending_count() if current_user.role == "staff" else 0
    return render_template(
        "listings/new_since.html", found=found, only_mine=only_mine, pending=pending
    )
