"""Read and write listings and matches as JSON lines, with errors that name file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .listing import Listing, Match


class ListingFileError(ValueError):
    """A listings file cannot be read; the message names the file and line."""


def read_listings(path: str | Path) -> list[Listing]:
    """Read one listing a line: {"id", "title", "description", "keywords", "fields"/"field", "org"}.

    ``fields`` is a list in the poster's order; a single ``field`` is accepted too (``fields``
    wins when both are given).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ListingFileError(f"{path}: cannot read ({exc.strerror})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    listings = []
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ListingFileError(f"{path}:{number}: not valid UTF-8") from None
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ListingFileError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        listings.append(_listing(row, path, number))
    return listings


def _listing(row, path, number) -> Listing:
    if not isinstance(row, dict):
        raise ListingFileError(f"{path}:{number}: expected a JSON object")
    if row.get("id") in (None, ""):
        raise ListingFileError(f'{path}:{number}: missing "id"')
    if not isinstance(row["id"], str | int) or isinstance(row["id"], bool):
        raise ListingFileError(f'{path}:{number}: "id" must be a string or an integer')
    keywords = row.get("keywords") or ()
    if isinstance(keywords, str):
        keywords = (keywords,)
    if not isinstance(keywords, list | tuple) or not all(isinstance(k, str) for k in keywords):
        raise ListingFileError(f'{path}:{number}: "keywords" must be a list of strings')
    for key in ("title", "description", "field"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise ListingFileError(f'{path}:{number}: "{key}" must be a string')
    fields = row.get("fields")
    if fields is not None and (
        not isinstance(fields, list | tuple) or not all(isinstance(f, str) for f in fields)
    ):
        raise ListingFileError(f'{path}:{number}: "fields" must be a list of strings')
    return Listing(
        id=row["id"],
        title=row.get("title") or "",
        description=row.get("description") or "",
        keywords=tuple(keywords),
        field=row.get("field") or None,
        org=row.get("org"),
        fields=tuple(fields or ()),
    )


def write_need_matches(path: str | Path, need_ids: Iterable, matches: Iterable[Match]) -> None:
    """Write one line per need: {"need_id", "matches": [{"achievement_id", "score", "terms"}]}."""
    by_need: dict = {}
    for match in matches:
        by_need.setdefault(match.need_id, []).append(match)
    with open(path, "w", encoding="utf-8") as handle:
        for need_id in need_ids:
            rows = [
                {
                    "achievement_id": m.achievement_id,
                    "score": round(m.score, 6),
                    "terms": [list(t) for t in m.terms],
                }
                for m in sorted(by_need.get(need_id, ()), key=lambda m: m.need_rank)
            ]
            handle.write(
                json.dumps({"need_id": need_id, "matches": rows}, ensure_ascii=False) + "\n"
            )
