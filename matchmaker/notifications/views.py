"""The signed-in user's notifications and staff's view of the e-mail outbox.

Plain view functions: the workbench blueprint (pairs/views.py) routes them, so their URLs and
endpoint names (workbench.notification_list, .notifications_read, .outbox) stay what they were.
"""

from flask import g, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core import paging
from matchmaker.core.safe_redirect import redirect_back
from matchmaker.notifications import notify as notifications


def unread_notifications() -> int:
    """The signed-in user's unread count for the page header (a template global), counted once
    per request."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = notifications.unread_count(current_user.id)
    return g.unread_notifications


def read_link(link: str) -> None:
    """Opening the page notifications point to reads them; with none unread (the usual case) the
    count the header shows anyway is the only statement."""
    if unread_notifications() and notifications.mark_read_link(current_user.id, link):
        g.pop("unread_notifications", None)


@roles_required()
def notification_list():
    result = notifications.for_user(current_user.id, page=paging.page_number(request.args))
    return render_template("pairs/notifications.html", result=result)


@roles_required()
def notifications_read():
    raw = request.form.get("id", "")
    notifications.mark_read(current_user.id, paging.positive_int(raw))
    return redirect_back("next", fallback=url_for("workbench.notification_list"))


@roles_required("staff")
def outbox():
    status = request.args.get("status") or None
    result = notifications.outbox(page=paging.page_number(request.args), status=status)
    return render_template("pairs/outbox.html", result=result, status=status)


# (rule, view, methods) for the blueprint that routes these pages.
ROUTES = (
    ("/notifications", notification_list, ["GET"]),
    ("/notifications/read", notifications_read, ["POST"]),
    ("/outbox", outbox, ["GET"]),
)
