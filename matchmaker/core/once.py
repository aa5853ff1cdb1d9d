"""`@once`: a create view that a form's one-time token makes idempotent.

Every form rendered with the `csrf()` macro carries a `form_token`. A view under `@once` claims
the token before it runs; a second POST with a spent token is redirected to what the first one
made (with a message), or answered 409 while the first one is still running.
"""

from functools import wraps

from flask import flash, redirect, request
from flask_login import current_user

from matchmaker.core import form_tokens
from matchmaker.core.exceptions import Conflict

FIELD = "form_token"


def once(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        token = request.form.get(FIELD, "") if request.method == "POST" else ""
        if not token:
            return view(*args, **kwargs)
        user_id = current_user.id if current_user.is_authenticated else None
        earlier = form_tokens.claim(token, request.endpoint or "", user_id)
        if earlier is not None:
            if earlier.result_url and earlier.user_id == user_id:
                flash("该表单已经提交过，没有重复创建", "warning")
                return redirect(earlier.result_url)
            raise Conflict("该表单已经提交过或正在提交，请勿重复提交")
        try:
            response = view(*args, **kwargs)
        except Exception:
            form_tokens.release(token)
            raise
        status = getattr(response, "status_code", None)
        if status is None and isinstance(response, tuple) and len(response) > 1:
            status = response[1]
        if status in (301, 302, 303, 307, 308):
            form_tokens.finish(token, response.location)
        else:  # the form came back with errors (or the view rendered a page): not spent
            form_tokens.release(token)
        return response

    return wrapper
