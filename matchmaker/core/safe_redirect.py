"""The one place that decides whether a redirect target taken from user input stays on this site.

Browsers are generous with what they read as a URL: they drop tabs and newlines anywhere
(`/\t/evil.example` becomes `//evil.example`), treat a backslash as a slash (`/\\evil.example`),
and follow scheme-relative targets (`//evil.example`). So a target is accepted only when it is a
plain local path: it starts with a single `/`, contains no control characters, whitespace or
backslashes, has no scheme and no host. Anything else falls back to a page we name.
"""

from urllib.parse import urlsplit

from flask import redirect, request, url_for

MAX_TARGET = 2000


def is_safe_target(target: str | None) -> bool:
    """Whether `target` is a path on this site that no browser can read as another site."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    try:
        parts = urlsplit(target)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def safe_target(target: str | None, fallback: str | None = None) -> str:
    """`target` when it is safe, else `fallback` (the home page when none is given)."""
    if is_safe_target(target):
        return target
    return fallback or url_for("main.index")


def redirect_back(*names: str, fallback: str | None = None):
    """Redirect to the first of the request's `names` parameters (query, then form) that is set,
    when it is a safe local target; otherwise to `fallback`."""
    for name in names:
        value = request.args.get(name) or request.form.get(name)
        if value:
            return redirect(safe_target(value, fallback))
    return redirect(fallback or url_for("main.index"))


def redirect_next():
    """After login and similar steps: go to `next` when it is safe, else the home page."""
    return redirect_back("next")
