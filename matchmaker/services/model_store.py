"""Fitted matchers saved under app.config["MODEL_DIR"], one file per model version.

A version names the engine, its dictionary, the staff vocabulary and a digest of the listings the
model was fitted on, so the same data and vocabulary always give the same version (and file), and
a worker can load the exact model a run planned with. Loaded models are cached per process.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from matchmaker.extensions import db
from matchmaker.models import MatchRun

_cache: OrderedDict[str, object] = OrderedDict()
_lock = threading.Lock()
_CACHE_SIZE = 2


def model_path(version: str) -> Path:
    """Return the file that holds the model of this version."""
    safe = re.sub(r"[^A-Za-z0-9.+_-]", "_", version)
    return Path(current_app.config["MODEL_DIR"]) / f"{safe}.joblib"


def exists(version: str) -> bool:
    return model_path(version).exists()


def save(matcher, version: str) -> Path:
    """Save a fitted matcher atomically (write, then rename) and keep it in the cache."""
    path = model_path(version)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    matcher.save(partial)
    os.replace(partial, path)
    matcher.n_jobs = 1  # the planner's extra processes served the fit; chunks rank in one each
    _remember(version, matcher)
    return path


def load(version: str):
    """Return the matcher of this version, from the process cache or from its file."""
    with _lock:
        if version in _cache:
            _cache.move_to_end(version)
            return _cache[version]
    from matchmaker.matching import Matcher

    path = model_path(version)
    if not path.exists():
        raise FileNotFoundError(f"模型文件不存在：{path}")
    matcher = Matcher.load(path)
    matcher.n_jobs = 1  # workers are the parallelism: a chunk never forks more processes
    _remember(version, matcher)
    return matcher


def _remember(version: str, matcher) -> None:
    with _lock:
        _cache[version] = matcher
        _cache.move_to_end(version)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def current_version() -> str | None:
    """Return the model version of the latest successful full or rebuild run."""
    return db.session.scalar(
        select(MatchRun.model_version)
        .where(MatchRun.kind.in_(("full", "rebuild")), MatchRun.status == "succeeded")
        .order_by(MatchRun.finished_at.desc().nulls_last(), MatchRun.id.desc())
        .limit(1)
    )


def current_matcher():
    """Return (version, matcher) of the current model, or (None, None) when there is none yet."""
    version = current_version()
    if not version:
        return None, None
    try:
        return version, load(version)
    except FileNotFoundError:
        return version, None
