"""Demo data of this package, written by the team: the demo's 卡脖子 needs screened into a
published list, two applications, three agencies with brokers and their training records."""

from datetime import date, timedelta

from sqlalchemy import select

from matchmaker.accounts import users as accounts
from matchmaker.accounts.models import Organization, User
from matchmaker.challenges import bottlenecks
from matchmaker.challenges.models import (
    REVIEW_CRITERIA,
    AgencyProfile,
    ApplicationAchievement,
    ApplicationPartner,
    BottleneckEntry,
    BottleneckListVersion,
    BrokerProfile,
    BrokerTraining,
    CertificationTarget,
    ChallengeApplication,
    ExpertReview,
)
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need
from matchmaker.listings.taxonomy import field_by_name

# Need ref -> (category, difficulty, expected funding in 万元).
CLASSES = {
    "demo:N05": ("核心零部件", "较难", 800),
    "demo:N06": ("工艺技术", "重大", 1500),
    "demo:N07": ("关键装备", "重大", 2000),
    "demo:N08": ("核心零部件", "较难", 600),
    "demo:N10": ("关键材料", "重大", 1200),
    "demo:N13": ("关键装备", "较难", 900),
    "demo:N17": ("关键装备", "较难", 1000),
    "demo:N30": ("工艺技术", "重大", 1800),
    "demo:N40": ("软件与算法", "一般", 300),
    "demo:N41": ("核心零部件", "较难", 700),
}
# (organization, level, recognised on)
AGENCIES = (
    ("沈阳市科技成果转化服务中心", "municipal", date(2019, 6, 18)),
    ("辽宁省技术转移服务中心", "provincial", date(2017, 9, 1)),
    ("东北技术转移中心", "national", date(2015, 11, 20)),
)
# (login, display name, agency, certificate number, days since certified, fields); the demo
# `broker` account exists already and only gets its credentials here.
BROKERS = (
    ("broker", None, "沈阳市科技成果转化服务中心", "LN-JJR-0001", 40, None),
    (
        "broker_ln",
        "孙经纪",
        "辽宁省技术转移服务中心",
        "LN-JJR-0002",
        90,
        ("数字医疗与健康", "新能源汽车", "现代农业", "节能环保"),
    ),
    (
        "broker_db",
        "周经纪",
        "东北技术转移中心",
        "LN-JJR-0107",
        500,
        ("IC装备", "新材料", "高端装备"),
    ),
)
TRAININGS = (
    ("技术经纪人初级培训", 48, 200),
    ("技术合同认定登记实务", 16, 90),
    ("科技成果评价与定价", 12, 30),
)
# Applications: (need ref, leading organization, achievement refs, partner, budget, approach)
APPLICATIONS = (
    (
        "demo:N05",
        "辽沈理工大学",
        ("demo:A05",),
        "东北智能制造研究院",
        650,
        "以精度保持性试验台为基础，联合整机厂完成RV减速器齿形修形、摆线轮磨削工艺与寿命验证，"
        "三年内形成系列化国产减速器样机并在华拓焊接机器人上装机验证。",
    ),
    (
        "demo:N06",
        "辽沈集成电路装备创新中心",
        ("demo:A06",),
        None,
        1200,
        "基于腔室等离子体仿真与多区加热控制，改造现有12英寸PECVD腔室的气体分配与射频匹配，"
        "在晶驰产线上完成薄膜厚度均匀性工艺窗口验证。",
    ),
)


def seed(today: date | None = None) -> dict:
    """Add what is missing of the demo list, applications, agencies and brokers."""
    today = today or date.today()
    counts = {"agencies_added": _agencies(), "brokers_added": _brokers(today)}
    counts["bottlenecks_listed"] = _list(today)
    counts["applications_added"] = _applications(today)
    db.session.commit()
    return counts


def _org(name: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.name == name))


def _agencies() -> int:
    added = 0
    for name, level, recognized in AGENCIES:
        org = _org(name)
        if org is None:
            org = accounts.create_organization(
                name, "agency", None, region="沈阳市", status="approved"
            )
        if db.session.get(AgencyProfile, org.id) is None:
            db.session.add(
                AgencyProfile(organization_id=org.id, level=level, recognized_on=recognized)
            )
            added += 1
    db.session.flush()
    return added


def _brokers(today: date) -> int:
    from matchmaker.demo.seed import DEMO_PASSWORD

    added = 0
    for login, display, agency, certificate, days, fields in BROKERS:
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            if display is None:
                continue
            user = accounts.create_user(
                login, DEMO_PASSWORD, "broker", _org(agency), display_name=display
            )
            user.fields = [field_by_name(f, create=True) for f in fields]
        if db.session.get(BrokerProfile, user.id) is not None:
            continue
        db.session.add(
            BrokerProfile(
                user_id=user.id,
                agency_id=_org(agency).id,
                certificate_no=certificate,
                certified_on=today - timedelta(days=days),
            )
        )
        for course, hours, days_ago in TRAININGS:
            db.session.add(
                BrokerTraining(
                    user_id=user.id,
                    course=course,
                    hours=hours,
                    taken_on=today - timedelta(days=days_ago),
                )
            )
        added += 1
    if db.session.get(CertificationTarget, today.year) is None:
        db.session.add(CertificationTarget(year=today.year, target=300))
    db.session.flush()
    return added


def _staff() -> User | None:
    return db.session.scalar(select(User).where(User.login == "staff"))


def _list(today: date) -> int:
    staff = _staff()
    if staff is None or db.session.scalar(select(BottleneckListVersion.id).limit(1)):
        return 0
    listed = 0
    for ref, (category, difficulty, funding) in CLASSES.items():
        need = db.session.scalar(select(Need).where(Need.external_ref == ref))
        if need is None or need.status != "published" or not need.is_bottleneck:
            continue
        if db.session.scalar(select(BottleneckEntry.id).where(BottleneckEntry.need_id == need.id)):
            continue
        entry = BottleneckEntry(
            need=need,
            status="listed",
            year=today.year,
            number=listed + 1,
            field_id=need.fields[0].id if need.fields else None,
            category=category,
            difficulty=difficulty,
            expected_funding=funding,
        )
        db.session.add(entry)
        listed += 1
    if listed:
        db.session.flush()
        db.session.add(
            BottleneckListVersion(
                year=today.year,
                version=1,
                rows=[bottlenecks.row_of(e) for e in bottlenecks.listed(today.year)],
                note="首批清单（演示数据）",
                published_by_id=staff.id,
            )
        )
        db.session.flush()
    return listed


def _applications(today: date) -> int:
    added = 0
    for need_ref, lead, refs, partner, budget, approach in APPLICATIONS:
        need = db.session.scalar(select(Need).where(Need.external_ref == need_ref))
        entry = need and db.session.scalar(
            select(BottleneckEntry).where(BottleneckEntry.need_id == need.id)
        )
        lead_org = _org(lead)
        if entry is None or lead_org is None:
            continue
        exists = db.session.scalar(
            select(ChallengeApplication.id).where(
                ChallengeApplication.entry_id == entry.id,
                ChallengeApplication.lead_org_id == lead_org.id,
            )
        )
        if exists:
            continue
        achievements = [
            db.session.scalar(select(Achievement).where(Achievement.external_ref == r))
            for r in refs
        ]
        application = ChallengeApplication(
            entry=entry,
            lead_org_id=lead_org.id,
            approach=approach,
            team=f"{lead}牵头，课题组12人",
            milestones=[
                {"due": (today + timedelta(days=180)).isoformat(), "title": "完成样机"},
                {"due": (today + timedelta(days=540)).isoformat(), "title": "用户现场验证"},
            ],
            budget_asked=budget,
            partners=[ApplicationPartner(organization_id=_org(partner).id)] if partner else [],
            achievements=[
                ApplicationAchievement(achievement_id=a.id, position=n)
                for n, a in enumerate(achievements)
                if a is not None
            ],
        )
        db.session.add(application)
        db.session.flush()
        db.session.add(
            ExpertReview(
                application_id=application.id,
                expert_name="刘教授（评审专家）",
                scores={c: 8.0 for c in REVIEW_CRITERIA},
                total=32.0,
                comment="方案可行，团队有相关成果积累",
            )
        )
        added += 1
    db.session.flush()
    return added
