"""Fitted matchers, one file per model version, kept where every worker can read them.

A version names the engine, its dictionary, the staff vocabulary and a digest of the listings the
model was fitted on, so the same data and vocabulary always give the same version (and file), and
a worker can load the exact model a run planned with.

Each process keeps a local copy under app.config["MODEL_DIR"] (its own disk) and loaded models in
memory; the copy every machine shares lives in the store named by MODEL_STORE_URL:
- `db://` (default): the file in slices in the `stored_model_parts` table, in the database every
  process already uses (PostgreSQL bytea, SQLite BLOB);
- `file:///path`: a directory, for one machine or a disk every machine mounts.
A worker that has no local file for a version fetches it from the store into its MODEL_DIR.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from matchmaker.core.extensions import db
from matchmaker.runs.models import RUN_ACTIVE, MatchRun, StoredModel, StoredModelPart

_cache: OrderedDict[str, object] = OrderedDict()
_lock = threading.Lock()
_CACHE_SIZE = 2
PART_BYTES = 4 * 1024 * 1024  # one row per 4 MB: small enough for any driver's buffers
KEEP_STORED = 3  # newest stored models kept besides the current one and those runs still use


class ModelMissing(FileNotFoundError):
    """No process has stored a model of this version."""


def model_path(version: str) -> Path:
    """Return this process's local file for the model of this version."""
    return Path(current_app.config["MODEL_DIR"]) / _file_name(version)


def _file_name(version: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", version) + ".joblib"


# -- the shared store ----------------------------------------------------------------------
class DatabaseStore:
    """Model files in slices in the application database."""

    url = "db://"

    def has(self, version: str) -> bool:
        return db.session.get(StoredModel, version) is not None

    def put(self, version: str, path: Path) -> None:
        """Store the file in one transaction of its own; a version stored already is kept."""
        size, digest = path.stat().st_size, _sha256(path)
        try:
            with db.engine.begin() as conn:
                # The header first (the parts point at it); a second planner's insert of the
                # same version fails here, or waits for the first one's commit and then fails.
                conn.execute(
                    insert(StoredModel.__table__),
                    {"version": version, "size": size, "sha256": digest, "parts": 0},
                )
                parts = 0
                with open(path, "rb") as handle:
                    while block := handle.read(PART_BYTES):
                        conn.execute(
                            insert(StoredModelPart.__table__),
                            {"version": version, "position": parts, "data": block},
                        )
                        parts += 1
                conn.execute(
                    update(StoredModel).where(StoredModel.version == version).values(parts=parts)
                )
        except IntegrityError:
            pass  # another planner stored the same version (same inputs, same file) first

    def fetch(self, version: str, dest: Path) -> bool:
        """Write the stored file to dest; False when the store has no such version."""
        with db.engine.connect() as conn:
            head = conn.execute(
                select(StoredModel.size, StoredModel.sha256, StoredModel.parts).where(
                    StoredModel.version == version
                )
            ).first()
            if head is None:
                return False
            rows = conn.execution_options(yield_per=1).execute(
                select(StoredModelPart.data)
                .where(StoredModelPart.version == version)
                .order_by(StoredModelPart.position)
            )
            _write_checked(dest, (row.data for row in rows), head.size, head.sha256)
        return True


class DirectoryStore:
    """Model files in one directory (a local disk, or one that every machine mounts)."""

    def __init__(self, root: Path):
        self.root = root
        self.url = root.as_uri()

    def has(self, version: str) -> bool:
        return (self.root / _file_name(version)).exists()

    def put(self, version: str, path: Path) -> None:
        target = self.root / _file_name(version)
        if target.resolve() == path.resolve():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        shutil.copyfile(path, partial)
        os.replace(partial, target)

    def fetch(self, version: str, dest: Path) -> bool:
        source = self.root / _file_name(version)
        if not source.exists():
            return False
        if source.resolve() != dest.resolve():
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial = dest.with_name(f"{dest.name}.{os.getpid()}.part")
            shutil.copyfile(source, partial)
            os.replace(partial, dest)
        return True


def store_for(url: str):
    """Return the store that MODEL_STORE_URL names (`db://` or `file:///path`)."""
    parts = urlsplit(url or "db://")
    if parts.scheme == "db":
        return DatabaseStore()
    if parts.scheme == "file" and parts.path:
        return DirectoryStore(Path(unquote(parts.path)))
    raise ValueError(f"MODEL_STORE_URL 应为 db:// 或 file:///目录，而不是 {url!r}")


def shared_store():
    return store_for(current_app.config.get("MODEL_STORE_URL", "db://"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _write_checked(dest: Path, blocks, size: int, sha256: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f"{dest.name}.{os.getpid()}.{threading.get_ident()}.part")
    digest, written = hashlib.sha256(), 0
    try:
        with open(partial, "wb") as handle:
            for block in blocks:
                handle.write(block)
                digest.update(block)
                written += len(block)
        if written != size or digest.hexdigest() != sha256:
            raise OSError(f"模型文件在存储中不完整：{written}/{size} 字节")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


# -- what the planner and the chunks call ---------------------------------------------------
def exists(version: str) -> bool:
    """True when a model of this version is stored (here or in the shared store)."""
    return model_path(version).exists() or shared_store().has(version)


def save(matcher, version: str) -> Path:
    """Save a fitted matcher locally (write, then rename), put it in the shared store, cache it."""
    path = model_path(version)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    matcher.save(partial)
    os.replace(partial, path)
    store = shared_store()
    store.put(version, path)
    if isinstance(store, DatabaseStore):
        prune()
    matcher.n_jobs = 1  # the planner's extra processes served the fit; chunks rank in one each
    _remember(version, matcher)
    return path


def load(version: str):
    """Return the matcher of this version: from memory, the local file, or the shared store."""
    with _lock:
        if version in _cache:
            _cache.move_to_end(version)
            return _cache[version]
    from matchmaker.matching import Matcher

    path = model_path(version)
    if not path.exists() and not shared_store().fetch(version, path):
        raise ModelMissing(f"模型 {version} 尚未保存到模型存储（{shared_store().url}）")
    matcher = Matcher.load(path)
    matcher.n_jobs = 1  # workers are the parallelism: a chunk never forks more processes
    _remember(version, matcher)
    return matcher


def hold(version: str, matcher) -> None:
    """Hold a matcher in this process's memory under a version, without storing it."""
    matcher.n_jobs = 1
    _remember(version, matcher)


def prune(keep: int | None = None) -> int:
    """Drop stored models but the `keep` newest, the current one and those of active runs."""
    keep = KEEP_STORED if keep is None else keep
    newest = select(StoredModel.version).order_by(StoredModel.created_at.desc()).limit(keep)
    in_use = select(MatchRun.model_version).where(MatchRun.status.in_(RUN_ACTIVE))
    kept = set(db.session.scalars(newest)) | set(db.session.scalars(in_use))
    kept.add(current_version() or "")
    old = [v for v in db.session.scalars(select(StoredModel.version)) if v not in kept]
    if old:
        db.session.execute(delete(StoredModelPart).where(StoredModelPart.version.in_(old)))
        db.session.execute(delete(StoredModel).where(StoredModel.version.in_(old)))
    db.session.commit()
    return len(old)


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
