"""Turn published listings into the engine's plain Listings, with tokens cached per revision.

A listing's `tokens` are valid while `tokens_revision == revision` and the vocabulary is the one
they were made with; a vocabulary change (new engine dictionary or staff words) recomputes all.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy import bindparam, select, update

from matchmaker.accounts.models import Field
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need, achievement_fields, need_fields
from matchmaker.runs import model_store

log = logging.getLogger(__name__)

MODELS = {
    "need": (Need, need_fields, "need_id"),
    "achievement": (Achievement, achievement_fields, "achievement_id"),
}


@dataclass
class Inputs:
    achievements: list
    needs: list
    stale_tokens: dict  # kind -> [(id, revision, tokens)] to write back


def load_published(config, reuse_tokens: bool) -> Inputs:
    """Return every published listing as an engine Listing, tokenizing what is not cached."""
    out = {}
    stale = {}
    for kind in ("achievement", "need"):
        out[kind], stale[kind] = _load_side(kind, config, reuse_tokens)
    return Inputs(out["achievement"], out["need"], stale)


def declared_fields(kind: str, ids=None) -> dict[int, tuple[str, ...]]:
    """Map listing id to its declared field names in the poster's order (published only)."""
    model, link, column = MODELS[kind]
    owner = link.c[column]
    query = (
        select(owner, Field.name)
        .join(Field, Field.id == link.c.field_id)
        .join(model, model.id == owner)
        .where(model.status == "published")
        .order_by(owner, link.c.position, link.c.field_id)
    )
    if ids is not None:
        query = query.where(owner.in_(list(ids)))
    names: dict[int, list[str]] = {}
    for listing_id, name in db.session.execute(query):
        names.setdefault(listing_id, []).append(name)
    return {listing_id: tuple(found) for listing_id, found in names.items()}


def _load_side(kind, config, reuse_tokens):
    from matchmaker.matching import listing_tokens

    model = MODELS[kind][0]
    extra = [model.summary] if kind == "achievement" else []
    fields = declared_fields(kind)
    rows = db.session.execute(
        select(
            model.id,
            model.title,
            model.description,
            model.keywords,
            model.organization_id,
            model.revision,
            model.tokens,
            model.tokens_revision,
            *extra,
        )
        .where(model.status == "published")
        .order_by(model.id)
    ).all()
    listings, stale = [], []
    for row in rows:
        listing = to_listing(row, fields.get(row.id, ()), row[8] if extra else "")
        tokens = row.tokens
        if not (reuse_tokens and tokens is not None and row.tokens_revision == row.revision):
            tokens = listing_tokens(listing, config)
            stale.append((row.id, row.revision, tokens))
        listings.append(replace(listing, tokens=tuple(tokens)))
    return listings, stale


def to_listing(row, fields: tuple[str, ...] = (), summary: str = ""):
    """Return one listing row as the engine's Listing, its fields in the poster's order."""
    from matchmaker.matching import Listing

    description = row.description or ""
    if summary:
        description = f"{summary}\n{description}"
    keywords = row.keywords or []
    if isinstance(keywords, str):
        keywords = [keywords]
    return Listing(
        id=row.id,
        title=row.title or "",
        description=description,
        keywords=tuple(keywords),
        fields=tuple(fields),
        org=row.organization_id,
    )


def listing_for(kind: str, listing_id: int):
    """Return one listing as an engine Listing (uncached tokens), or None if not published."""
    model = MODELS[kind][0]
    row = db.session.get(model, listing_id)
    if row is None or row.status != "published":
        return None, None
    return row, to_listing(row, tuple(row.field_names), getattr(row, "summary", ""))


def published_since(kind: str, since) -> list:
    """Published listings of one side changed at or after `since` (all when it is None).

    A model fitted at `since` lacks the new ones and has the edited ones' old text; the engine
    takes both as extra candidates. Cached tokens are used where they are current.
    """
    model = MODELS[kind][0]
    query = select(model).where(model.status == "published")
    if since is not None:
        query = query.where(model.updated_at >= since)
    rows = list(db.session.scalars(query.order_by(model.id)))
    fields = declared_fields(kind, [row.id for row in rows]) if rows else {}
    out = []
    for row in rows:
        listing = to_listing(row, fields.get(row.id, ()), getattr(row, "summary", ""))
        if row.tokens is not None and row.tokens_revision == row.revision:
            listing = replace(listing, tokens=tuple(row.tokens))
        out.append(listing)
    return out


def write_tokens(stale: dict) -> None:
    """Store freshly computed tokens; the caller's transaction commits them."""
    for kind, items in stale.items():
        if not items:
            continue
        table = MODELS[kind][0].__table__
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.revision == bindparam("b_rev"))
            .values(
                tokens=bindparam("b_tokens"),
                tokens_revision=bindparam("b_rev"),
                updated_at=table.c.updated_at,
            )
        )
        for start in range(0, len(items), 2000):
            batch = items[start : start + 2000]
            db.session.connection().execute(
                stmt, [{"b_id": i, "b_rev": r, "b_tokens": list(t)} for i, r, t in batch]
            )


def vocabulary_of(version: str | None) -> str:
    """The part of a model version that decides tokens (engine, dictionary, staff words)."""
    return (version or "").rsplit("+data", 1)[0]


def model_version(matcher, inputs: Inputs) -> str:
    """Return a version naming the vocabulary and the exact listings a model is fitted on."""
    digest = hashlib.sha1()
    for kind, listings in (("a", inputs.achievements), ("n", inputs.needs)):
        for x in listings:
            digest.update(f"{kind}{x.id}|{'/'.join(x.fields)}|{x.org}|".encode())
            digest.update("\x1f".join(x.tokens).encode("utf-8"))
            digest.update(b"\x1e")
    return f"{matcher.version}+data{digest.hexdigest()[:12]}"


def fit_or_load(config, inputs: Inputs):
    """Return (version, matcher): the saved model for these inputs, or a freshly fitted one."""
    from matchmaker.matching import Matcher

    matcher = Matcher(config, n_jobs=max(1, current_app.config.get("MATCH_PLAN_JOBS", 1)))
    version = model_version(matcher, inputs)
    if model_store.exists(version):
        try:
            return version, model_store.load(version)
        except Exception:  # noqa: BLE001 - an unreadable or outdated file is simply refitted
            pass
    processes = matcher.n_jobs  # saving hands the matcher to the chunks with n_jobs = 1
    started = time.monotonic()
    matcher.fit(inputs.achievements, inputs.needs)
    fitted = time.monotonic()
    with _may_fork(processes > 1):
        model_store.save(matcher, version)  # saving runs the feedback pass, in n_jobs parts
    log.info(
        "model %s: fitted in %.1f s, feedback pass and save in %.1f s (%d processes)",
        version,
        fitted - started,
        time.monotonic() - fitted,
        processes,
    )
    return version, matcher


@contextmanager
def _may_fork(needed: bool):
    """Let a Celery pool process (daemonic) fork the engine's parts for the span of one call.

    The engine's parts are its own short-lived children: it joins or terminates them before
    returning, which is what the daemonic flag's ban on children protects against.
    """
    process = multiprocessing.current_process()
    daemonic = process._config.get("daemon")
    if not (needed and daemonic):
        yield
        return
    process._config["daemon"] = False
    try:
        yield
    finally:
        process._config["daemon"] = daemonic
