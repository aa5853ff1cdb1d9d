"""The demo platform for a first run: organizations, one account per role, listings (idempotent).

The listings live in matchmaker/demo/shenyang.json, written by the team for a plausible
northeastern industrial city. Seeding adds only what is missing, so it runs on every start.
"""

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from matchmaker.accounts import users as accounts
from matchmaker.accounts.models import Organization, User
from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.listings.models import MATURITY_TRL, Achievement, Need
from matchmaker.listings.taxonomy import ensure_fields, field_by_name

DEMO_PASSWORD = "demo-pass-2026"
DEMO_DATA = Path(__file__).resolve().parent.parent / "demo" / "shenyang.json"
# Demo listings keep their file id, prefixed, as external reference, which is how a rerun
# recognises what it already added.
REF_PREFIX = "demo:"
DEMO_USERS = (
    ("staff", "staff", "王科长", "沈阳市科技成果转化服务中心", ()),
    (
        "broker",
        "broker",
        "李经纪",
        "沈阳市科技成果转化服务中心",
        ("机器人与智能制造", "IC装备", "新材料", "高端装备", "航空装备", "新一代人工智能"),
    ),
    ("institute", "institute", "赵研究员", "东北智能制造研究院", ()),
    ("enterprise", "enterprise", "陈总工", "沈阳华拓精密装备有限公司", ()),
)
MEMBER_ROLES = {"university": "institute", "institute": "institute", "enterprise": "enterprise"}


def load_demo_data(path: Path = DEMO_DATA) -> dict:
    """Read the demo organizations and listings."""
    return json.loads(path.read_text(encoding="utf-8"))


def seed(today: date | None = None) -> dict:
    """Load taxonomy, demo organizations, accounts and published listings; add what is missing."""
    data = load_demo_data()
    ensure_fields()
    orgs, orgs_added = _seed_organizations(data["organizations"])
    users_added = _seed_role_accounts() + _seed_member_accounts(data["organizations"], orgs)
    today = today or date.today()
    achievements_added = _seed_listings(Achievement, data["achievements"], orgs, today)
    needs_added = _seed_listings(Need, data["needs"], orgs, today)
    db.session.commit()
    from matchmaker.demo import challenges as challenges_demo
    from matchmaker.demo.pairs import seed_pairs

    return {
        "organizations_added": orgs_added,
        "users_added": users_added,
        "achievements_added": achievements_added,
        "needs_added": needs_added,
        **challenges_demo.seed(today),
    } | seed_pairs(today)


def seed_accounts() -> None:
    """Create the demo organizations and one account per role (no listings)."""
    ensure_fields()
    _seed_organizations(load_demo_data()["organizations"])
    _seed_role_accounts()
    db.session.commit()


def _seed_organizations(rows: list[dict]) -> tuple[dict[str, Organization], int]:
    by_key, added = {}, 0
    for row in rows:
        org = db.session.scalar(select(Organization).where(Organization.name == row["name"]))
        if org is None:
            org = accounts.create_organization(
                row["name"],
                row["kind"],
                row["credit_code"],
                region=row["region"],
                status="approved",
                contact_name=row["contact_name"],
                contact_phone=row["contact_phone"],
            )
            added += 1
        by_key[row["key"]] = org
    return by_key, added


def _login_taken(login: str) -> bool:
    return db.session.scalar(select(User.id).where(User.login == login)) is not None


def _seed_role_accounts() -> int:
    added = 0
    for login, role, display, org_name, fields in DEMO_USERS:
        if _login_taken(login):
            continue
        org = db.session.scalar(select(Organization).where(Organization.name == org_name))
        user = accounts.create_user(login, DEMO_PASSWORD, role, org, display_name=display)
        user.fields = [field_by_name(f) for f in fields]
        added += 1
    return added


def _seed_member_accounts(rows: list[dict], orgs: dict[str, Organization]) -> int:
    """One account for each other demo organization, so both sides of a pair can sign in."""
    missing = [r for r in rows if r.get("login") and not _login_taken(r["login"])]
    if not missing:
        return 0
    # Hashing is deliberately slow; one hash serves every demo member account.
    password_hash = accounts.hash_password(DEMO_PASSWORD)
    for row in missing:
        db.session.add(
            User(
                login=row["login"],
                display_name=row["contact_name"],
                password_hash=password_hash,
                role=MEMBER_ROLES[row["kind"]],
                organization=orgs[row["key"]],
            )
        )
    db.session.flush()
    return len(missing)


def _seed_listings(model, rows: list[dict], orgs: dict[str, Organization], today: date) -> int:
    existing = set(
        db.session.scalars(
            select(model.external_ref).where(model.external_ref.like(f"{REF_PREFIX}%"))
        )
    )
    added = 0
    now = utcnow()
    for row in rows:
        ref = REF_PREFIX + row["ref"]
        if ref in existing:
            continue
        org = orgs[row["org"]]
        listing = model(
            external_ref=ref,
            title=row["title"],
            description=row["description"],
            keywords=row["keywords"],
            fields=[field_by_name(name) for name in row["fields"]],
            organization=org,
            contact_name=org.contact_name,
            contact_phone=org.contact_phone,
            status="published",
            submitted_at=now,
            published_at=now,
            **(_achievement_values(row) if model is Achievement else _need_values(row, today)),
        )
        db.session.add(listing)
        added += 1
    db.session.flush()
    return added


def _achievement_values(row: dict) -> dict:
    low, high = row["price"] or (None, None)
    return {
        "summary": row["summary"],
        "maturity": row["maturity"],
        "trl": MATURITY_TRL[row["maturity"]],
        "patents": row["patents"],
        "transfer_modes": row["modes"],
        "price_min": _money(low),
        "price_max": _money(high),
    }


def _need_values(row: dict, today: date) -> dict:
    low, high = row["budget"]
    return {
        "budget_min": _money(low),
        "budget_max": _money(high),
        "deadline": today + timedelta(days=row["deadline_days"]),
        "cooperation_modes": row["modes"],
        "is_bottleneck": row["bottleneck"],
    }


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))
