"""Demo accounts and organizations for a first run (idempotent)."""

from sqlalchemy import select

from matchmaker.extensions import db
from matchmaker.models import Organization, User
from matchmaker.services import accounts
from matchmaker.services.taxonomy import ensure_fields, field_by_name

DEMO_PASSWORD = "demo-pass-2026"
DEMO_ORGS = (
    ("沈阳市科技成果转化服务中心", "agency", "沈阳市"),
    ("东北智能制造研究院", "institute", "沈阳市浑南区"),
    ("沈阳华拓精密装备有限公司", "enterprise", "沈阳市铁西区"),
)
DEMO_USERS = (
    ("staff", "staff", "王科长", "沈阳市科技成果转化服务中心", ()),
    ("broker", "broker", "李经纪", "沈阳市科技成果转化服务中心",
     ("机器人与智能制造", "IC装备", "新材料", "高端装备", "航空装备", "新一代人工智能")),
    ("institute", "institute", "赵研究员", "东北智能制造研究院", ()),
    ("enterprise", "enterprise", "陈总工", "沈阳华拓精密装备有限公司", ()),
)


def seed_accounts() -> None:
    """Create the demo organizations and one account per role."""
    ensure_fields()
    for name, kind, region in DEMO_ORGS:
        if db.session.scalar(select(Organization.id).where(Organization.name == name)) is None:
            accounts.create_organization(name, kind, region=region, status="approved")
    for login, role, display, org_name, fields in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.login == login)) is not None:
            continue
        org = db.session.scalar(select(Organization).where(Organization.name == org_name))
        user = accounts.create_user(login, DEMO_PASSWORD, role, org, display_name=display)
        user.fields = [field_by_name(f) for f in fields]
    db.session.commit()
