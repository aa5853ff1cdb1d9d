"""The dashboard shows the database's own counts, draws its charts and exports the same figures."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from matchmaker.accounts.models import Organization
from matchmaker.core.extensions import db
from matchmaker.dashboard import figures as dashboard
from matchmaker.fairs import organize as fair_service
from matchmaker.fairs import plan as fair_plan
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Contract, PairEvent, Suggestion


@pytest.fixture
def platform(make_org, make_user, make_need, make_achievement):
    """A small platform: listings in two fields, pairs at every stage, two contracts."""
    staff = make_user("staff")
    agency = make_org(kind="agency")
    broker = make_user("broker", org=agency)
    make_user("broker", org=agency)  # a broker who never acted
    uni = make_org(kind="university")
    inst = make_org(kind="institute")
    co1, co2 = make_org(kind="enterprise"), make_org(kind="enterprise")
    make_org(kind="enterprise")  # a company without needs does not take part
    achs = [
        make_achievement(organization=uni, fields=["新材料"]),
        make_achievement(organization=inst, fields=["IC装备"]),
        make_achievement(organization=inst, fields=["IC装备"], status="draft"),
    ]
    needs = [
        make_need(organization=co1, fields=["新材料"], is_bottleneck=True),
        make_need(organization=co2, fields=["IC装备"]),
        make_need(organization=co2, fields=["新材料"]),
    ]
    states = ["suggested", "recommended", "declined", "met", "intention", "contract"]
    pairs = []
    for i, state in enumerate(states):
        answers = {}
        if state == "declined":
            answers = {"need_answer": "declined"}
        elif state in ("met", "intention", "contract"):
            answers = {"need_answer": "interested", "achievement_answer": "interested"}
        pair = Suggestion(
            need_id=needs[i % 3].id,
            achievement_id=achs[i % 2].id,
            score=0.5,
            state=state,
            active=True,
            **answers,
        )
        db.session.add(pair)
        db.session.flush()
        if state != "suggested":
            db.session.add(PairEvent(suggestion_id=pair.id, to_state=state, actor_id=broker.id))
        pairs.append(pair)
    retired = Suggestion(need_id=needs[0].id, achievement_id=achs[2].id, score=0.2, active=False)
    db.session.add(retired)
    db.session.add(
        Contract(
            suggestion_id=pairs[5].id,
            contract_type="技术转让",
            amount=Decimal("8000"),
            signed_on=date.today(),
        )
    )
    db.session.add(
        Contract(
            suggestion_id=pairs[4].id,
            contract_type="技术开发",
            amount=Decimal("4000.5"),
            signed_on=date.today(),
        )
    )
    db.session.commit()
    return {"staff": staff, "broker": broker, "pairs": pairs}


def _db_count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def test_platform_totals_equal_database_counts(platform):
    t = dashboard.totals()
    assert (
        t["achievements"]
        == _db_count(select(Achievement).where(Achievement.status == "published"))
        == 2
    )
    assert t["needs"] == _db_count(select(Need).where(Need.status == "published")) == 3
    assert t["bottleneck_needs"] == 1
    assert t["institutions"] == 2 and t["companies"] == 2
    assert t["suggested"] == _db_count(select(Suggestion).where(Suggestion.active.is_(True))) == 6
    assert t["recommended"] == 5 and t["met"] == 3 and t["intentions"] == 2
    assert t["contracts"] == _db_count(select(Contract)) == 2
    assert t["contract_value"] == Decimal("12000.50")
    assert t["contract_value_label"] == "1.20亿元"
    assert t["brokers_active"] == 1 and t["agencies_active"] == 1


def test_by_field_and_kind_add_up(platform):
    fields = {r["field"]: r for r in dashboard.by_field()}
    assert fields["新材料"]["needs"] == 2 and fields["新材料"]["bottleneck_needs"] == 1
    assert fields["IC装备"]["achievements"] == 1
    kinds = {r["kind"]: r for r in dashboard.by_kind()}
    assert kinds["企业"]["needs"] == 3 and kinds["企业"]["organizations"] == 2
    assert kinds["高校"]["achievements"] + kinds["科研院所"]["achievements"] == 2
    month = dashboard.by_month()[-1]
    assert month["month"] == f"{date.today():%Y-%m}" and month["contracts"] == 2


def test_dashboard_page_shows_counts_and_funnel(platform, client, login):
    login(platform["staff"])
    page = client.get("/dashboard/").get_data(as_text=True)
    assert '<svg class="chart"' in page and "转化漏斗" in page
    assert 'data-stage="系统推荐配对" data-value="6"' in page
    assert 'data-stage="签约" data-value="2"' in page
    assert "1.20亿元" in page
    assert "<script" not in page.split("<main>")[1]  # charts are drawn server-side


def test_dashboard_export_has_the_same_figures(platform, client, login):
    login(platform["broker"])
    response = client.get("/dashboard/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.data))
    rows = {r[0]: r[1] for r in book["总览"].iter_rows(min_row=2, values_only=True)}
    assert rows["科技成果（项）"] == 2 and rows["签订合同（项）"] == 2
    assert rows["合同金额（万元）"] == 12000.5
    assert {"按领域", "按单位类型", "按月份"} <= set(book.sheetnames)


def test_fair_dashboard_counts_only_that_fair(
    make_user, make_org, make_need, make_achievement, client, login
):
    staff = make_user("staff")
    n = make_need(organization=make_org(kind="enterprise"))
    a = make_achievement(organization=make_org(kind="institute"))
    make_need()  # published but not registered
    db.session.add(Suggestion(need_id=n.id, achievement_id=a.id, score=0.7))
    db.session.commit()
    fair = fair_service.create_fair("会", "2026-12-01", slots=3, tables=2)
    fair_service.register_listing(fair.id, "need", n.id, staff.id)
    fair_service.register_listing(fair.id, "achievement", a.id, staff.id)
    fair_plan.publish(fair.id, staff.id)
    t = dashboard.totals(fair.id)
    assert (t["needs"], t["achievements"], t["suggested"], t["meetings_planned"]) == (1, 1, 1, 1)
    assert dashboard.totals()["needs"] == 2
    login(staff)
    assert "对接会洽谈" in client.get(f"/dashboard/?fair={fair.id}").get_data(as_text=True)
    assert client.get("/dashboard/?fair=999").status_code == 404


def test_organizations_cannot_open_the_dashboard(make_user, client, login):
    login(make_user("enterprise"))
    assert client.get("/dashboard/").status_code == 403
    assert _db_count(select(Organization)) == 1
