"""Bulk loading of JSON-lines listing files, published under generated organizations.

A line is `{"id", "title", "description", "keywords": [...], "fields": [...] or "field", "org"?}`
(`fields` in the poster's order wins over `field`). Every line of
every file is checked before anything is written, then all rows go in with a few bulk inserts
in one transaction, so a bad line leaves the database as it was.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import insert, select

from matchmaker.accounts.models import Field, Organization
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.schemas import check
from matchmaker.listings import index as listing_index
from matchmaker.listings.kinds import KINDS as SEARCH_KINDS
from matchmaker.listings.models import Achievement, Need, achievement_fields, need_fields
from matchmaker.listings.schemas import ListingFileLine

# SQLite refuses statements with more bound parameters than this; PostgreSQL does not mind.
CHUNK = 500


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    links: object
    link_column: str
    org_kind: str
    generated_org: str  # name of the organization a line without "org" gets


ACHIEVEMENT = Kind(
    "achievement",
    Achievement,
    achievement_fields,
    "achievement_id",
    "institute",
    "成果持有单位（{ref}）",
)
NEED = Kind("need", Need, need_fields, "need_id", "enterprise", "需求发布单位（{ref}）")


@dataclass
class ListingLine:
    ref: str
    title: str
    description: str
    keywords: list[str]
    fields: list[str]  # in the poster's order
    org: str | None


def read_listing_file(path: Path | str) -> list[ListingLine]:
    """Parse and check every line of a listing file; a problem names the file and line."""
    path = Path(path)
    lines, first_line_of = [], {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
                if not text:
                    continue
                line = _parse_line(text)
                if line.ref in first_line_of:
                    raise ValueError(f"id {line.ref} 与第{first_line_of[line.ref]}行重复")
            except (ValueError, UnicodeDecodeError) as e:
                raise ServiceError(f"{path}:{number}: {e}") from None
            first_line_of[line.ref] = number
            lines.append(line)
    return lines


def _parse_line(text: str) -> ListingLine:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"不是有效的JSON（{e.msg}）") from None
    if not isinstance(row, dict):
        raise ValueError("每行应是一个JSON对象")
    checked = check(ListingFileLine, row)
    if checked.errors:
        raise ValueError(next(iter(checked.errors.values())))
    v = checked.values
    line = ListingLine(
        v["id"], v["title"], v["description"], v["keywords"], v["fields"], v["org"] or None
    )
    if not line.title and not line.description:
        raise ValueError("title 和 description 不能都为空")
    return line


def load_listing_files(
    achievements: Path | str | None = None, needs: Path | str | None = None
) -> dict:
    """Load achievement and/or need files as published listings; return what was added."""
    batches = [
        (kind, read_listing_file(path))
        for kind, path in ((ACHIEVEMENT, achievements), (NEED, needs))
        if path is not None
    ]
    counts = {"organizations_added": 0, "fields_added": 0}
    for kind, _ in batches:
        counts[f"{kind.name}s_added"] = counts[f"{kind.name}s_skipped"] = 0
    try:
        new_batches = []
        for kind, lines in batches:
            new = _without_loaded(kind, lines)
            counts[f"{kind.name}s_skipped"] = len(lines) - len(new)
            new_batches.append((kind, new))
        all_new = [(kind, line) for kind, lines in new_batches for line in lines]
        field_ids = _field_ids({f for _, line in all_new for f in line.fields}, counts)
        org_ids = _organization_ids(all_new, counts)
        for kind, lines in new_batches:
            counts[f"{kind.name}s_added"] = _insert_listings(kind, lines, org_ids, field_ids)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _without_loaded(kind: Kind, lines: list[ListingLine]) -> list[ListingLine]:
    column = kind.model.external_ref
    loaded = set()
    for part in _chunks([line.ref for line in lines]):
        loaded.update(db.session.scalars(select(column).where(column.in_(part))))
    return [line for line in lines if line.ref not in loaded]


def _field_ids(names: set[str], counts: dict) -> dict[str, int]:
    ids = dict(db.session.execute(select(Field.name, Field.id).where(Field.name.in_(names))).all())
    missing = sorted(names - ids.keys())
    if missing:
        rows = db.session.execute(
            insert(Field).returning(Field.name, Field.id),
            [{"name": name, "position": 1000} for name in missing],
        )
        ids.update(dict(rows.all()))
    counts["fields_added"] = len(missing)
    return ids


def _org_name(kind: Kind, line: ListingLine) -> str:
    return line.org or kind.generated_org.format(ref=line.ref)


def _organization_ids(all_new: list[tuple[Kind, ListingLine]], counts: dict) -> dict:
    kinds: dict[str, str] = {}  # name -> kind of the first line that names it
    for kind, line in all_new:
        kinds.setdefault(_org_name(kind, line), kind.org_kind)
    ids: dict[str, int] = {}
    for part in _chunks(list(kinds)):
        ids.update(
            db.session.execute(
                select(Organization.name, Organization.id).where(Organization.name.in_(part))
            ).all()
        )
    missing = [name for name in kinds if name not in ids]
    now = utcnow()
    for part in _chunks(missing):
        rows = db.session.execute(
            insert(Organization).returning(Organization.name, Organization.id),
            [
                {"name": name, "kind": kinds[name], "status": "approved", "created_at": now}
                for name in part
            ],
        )
        ids.update(dict(rows.all()))
    counts["organizations_added"] = len(missing)
    return ids


def _insert_listings(kind: Kind, lines: list[ListingLine], org_ids: dict, field_ids: dict) -> int:
    now = utcnow()
    for part in _chunks(lines):
        rows = db.session.execute(
            insert(kind.model).returning(kind.model.external_ref, kind.model.id),
            [
                {
                    "external_ref": line.ref,
                    "title": line.title,
                    "description": line.description,
                    "keywords": line.keywords,
                    "organization_id": org_ids[_org_name(kind, line)],
                    "status": "published",
                    "created_at": now,
                    "updated_at": now,
                    "submitted_at": now,
                    "published_at": now,
                }
                for line in part
            ],
        )
        listing_ids = dict(rows.all())
        db.session.execute(
            kind.links.insert(),
            [
                {
                    kind.link_column: listing_ids[line.ref],
                    "field_id": field_ids[name],
                    "position": position,
                }
                for line in part
                for position, name in enumerate(line.fields)
            ],
        )
        # Bulk inserts bypass the ORM flush that keeps search terms in step, so index here.
        listing_index.reindex(
            SEARCH_KINDS[kind.name],
            [
                SimpleNamespace(
                    id=listing_ids[line.ref],
                    title=line.title,
                    keywords=line.keywords,
                    description=line.description,
                    summary="",
                    status="published",
                    published_at=now,
                )
                for line in part
            ],
        )
    return len(lines)
