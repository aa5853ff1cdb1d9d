"""Checked import uploads kept between the check and the confirmation, with a quota.

Only what can still be imported is kept: a file with no importable row is not stored at all, a
new upload replaces the same user's earlier one of that kind (the page shows only the latest
report), anything older than TTL is deleted, and each organization holds at most MAX_PER_ORG files
and MAX_BYTES_PER_ORG bytes (its oldest go first).
"""

import json
import secrets
import time
from pathlib import Path

from matchmaker.core.exceptions import NotFound

TTL = 24 * 3600
MAX_PER_ORG = 5
MAX_BYTES_PER_ORG = 20 * 1024 * 1024
GONE = "导入任务不存在或已过期，请重新上传"


def _entries(folder: Path) -> list[tuple[str, dict, float, int]]:
    """(token, meta, mtime, bytes) of every stored upload, oldest first; drops expired ones."""
    now = time.time()
    found = []
    for meta_path in folder.glob("*.json"):
        token = meta_path.stem
        data_path = folder / f"{token}.bin"
        try:
            mtime = meta_path.stat().st_mtime
            meta = json.loads(meta_path.read_text())
            size = data_path.stat().st_size
        except (OSError, ValueError):
            discard(folder, token)
            continue
        if now - mtime > TTL:
            discard(folder, token)
            continue
        found.append((token, meta, mtime, size))
    for orphan in folder.glob("*.bin"):  # data whose metadata is gone can never be confirmed
        if not (folder / f"{orphan.stem}.json").exists():
            orphan.unlink(missing_ok=True)
    return sorted(found, key=lambda e: e[2])


def stash(
    folder: Path, user_id: int, organization_id: int | None, kind: str, filename: str, data: bytes
) -> str:
    """Keep a checked upload for its confirmation; return the token that names it."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for token, meta, mtime, size in _entries(folder):
        if meta.get("user_id") == user_id and meta.get("kind") == kind:
            discard(folder, token)  # superseded by this upload
        else:
            entries.append((token, meta, mtime, size))
    # Staff (no organization) share one quota per user.
    owner = ("org", organization_id) if organization_id is not None else ("user", user_id)
    mine = [e for e in entries if _owner(e[1]) == owner]
    while mine and (
        len(mine) >= MAX_PER_ORG or sum(e[3] for e in mine) + len(data) > MAX_BYTES_PER_ORG
    ):
        discard(folder, mine.pop(0)[0])
    token = secrets.token_hex(16)
    (folder / f"{token}.bin").write_bytes(data)
    meta = {
        "user_id": user_id,
        "organization_id": organization_id,
        "kind": kind,
        "filename": filename,
    }
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False))
    return token


def _owner(meta: dict) -> tuple:
    org = meta.get("organization_id")
    return ("org", org) if org is not None else ("user", meta.get("user_id"))


def unstash(folder: Path, token: str, user_id: int, kind: str) -> tuple[str, bytes]:
    """The filename and bytes of this user's stored upload, or NotFound."""
    if not token.isascii() or not token.isalnum() or len(token) != 32:
        raise NotFound(GONE)
    live = {t: meta for t, meta, _, _ in _entries(folder)} if folder.exists() else {}
    meta = live.get(token)
    if meta is None or meta.get("user_id") != user_id or meta.get("kind") != kind:
        raise NotFound(GONE)
    try:
        data = (folder / f"{token}.bin").read_bytes()
    except OSError:
        raise NotFound(GONE) from None
    return meta["filename"], data


def discard(folder: Path, token: str) -> None:
    for suffix in (".bin", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)
