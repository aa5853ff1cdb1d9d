"""The header's menus, rendered once per kind of viewer and kept by each process.

What the menus hold depends only on the viewer's role and whether they administer their
organization (the unread count beside them is drawn on every page): rendering `_nav.html` anew
cost about 0.3 ms of Jinja on every page.
"""

from flask import Flask, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

MAX_KEPT = 64


def main_nav() -> Markup:
    if current_app.jinja_env.auto_reload:  # development: an edited template shows at once
        return Markup(render_template("_nav.html"))
    signed_in = current_user.is_authenticated
    role = current_user.role if signed_in else None
    key = (role, signed_in and bool(current_user.is_org_admin), request.script_root)
    kept = current_app.extensions.setdefault("main_nav", {})
    html = kept.get(key)
    if html is None:
        if len(kept) >= MAX_KEPT:
            kept.clear()
        html = kept[key] = Markup(render_template("_nav.html"))
    return html


def init_app(app: Flask) -> None:
    app.add_template_global(main_nav, "main_nav")
