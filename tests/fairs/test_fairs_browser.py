"""A real browser runs a fair: staff create, register, preview and publish; a company reads its
agenda; the dashboard shows the funnel."""

import pytest
from sqlalchemy import func, select

from matchmaker.core.extensions import db
from matchmaker.pairs.models import Meeting, Suggestion
from tests.browser import login_page

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_like(make_user, make_org, make_need, make_achievement):
    """Two institutes, three companies, needs and achievements in two fields, scored pairs."""
    institutes = [make_org(kind="institute", name=n) for n in ("东北智能制造研究院", "沈阳材料所")]
    companies = [
        make_org(kind="enterprise", name=n)
        for n in ("沈阳华拓精密装备有限公司", "沈阳新松配套件厂", "辽宁北方材料公司")
    ]
    achs = [
        make_achievement(organization=institutes[0], title="机器人焊缝跟踪系统"),
        make_achievement(organization=institutes[0], title="谐波减速器柔轮新工艺"),
        make_achievement(organization=institutes[1], title="高温合金增材制造", fields=["新材料"]),
    ]
    needs = [
        make_need(organization=companies[0], title="焊接机器人视觉引导"),
        make_need(organization=companies[1], title="减速器寿命提升", is_bottleneck=True),
        make_need(organization=companies[2], title="航空叶片修复材料", fields=["新材料"]),
    ]
    for i, n in enumerate(needs):
        for j, a in enumerate(achs):
            db.session.add(
                Suggestion(need_id=n.id, achievement_id=a.id, score=0.9 if i == j else 0.3)
            )
    db.session.commit()
    return {
        "staff": make_user("staff"),
        "company": make_user("enterprise", org=companies[0]),
        "needs": needs,
    }


def test_staff_run_a_fair_and_a_company_reads_its_agenda(live_server, browser, demo_like):
    staff = login_page(browser, live_server, demo_like["staff"].login)
    staff.goto(f"{live_server}/fairs/new")
    staff.fill("input[name=name]", "沈阳智能制造专场对接会")
    staff.fill("input[name=held_on]", "2026-12-18")
    staff.fill("input[name=venue]", "沈阳国际展览中心")
    staff.fill("input[name=ends_at]", "11:00")
    staff.fill("input[name=breaks]", "10:00-10:20")
    staff.fill("input[name=tables]", "3")
    staff.fill("input[name=default_quota]", "2")
    staff.fill("input[name=org_quota]", "4")  # the default would be half the 5 slots
    staff.click("#fair-form button[type=submit]")
    staff.wait_for_load_state()
    assert "5 个时段" in staff.content()
    staff.click("#register-all")
    staff.wait_for_load_state()
    assert staff.inner_text("#reg-needs") == "3" and staff.inner_text("#reg-achievements") == "3"

    staff.click("#preview")
    staff.wait_for_load_state()
    assert staff.inner_text("#fig-meetings") == "6"
    assert staff.inner_text("#fig-clashes") == "0"
    staff.click("#publish")
    staff.wait_for_load_state()
    assert "日程已发布" in staff.content()
    assert staff.locator("#agenda tr.meeting").count() == 6
    assert db.session.scalar(select(func.count(Meeting.id))) == 6

    company = login_page(browser, live_server, demo_like["company"].login)
    company.goto(f"{live_server}/fairs/")
    company.click("text=沈阳智能制造专场对接会")
    company.wait_for_load_state()
    company.click("text=查看日程")
    company.wait_for_load_state()
    rows = company.locator("#agenda tr.meeting")
    assert rows.count() == 2  # the company's one need, quota 2
    assert "焊接机器人视觉引导" in rows.first.inner_text()
    assert "减速器寿命提升" not in company.inner_text("#agenda")
    with company.expect_download() as download:
        company.click("text=导出 Excel")
    assert download.value.suggested_filename.endswith(".xlsx")

    # After the fair: the best pair signed a contract.
    best = db.session.scalar(
        select(Meeting.id)
        .join(Suggestion)
        .where(Suggestion.need_id == demo_like["needs"][0].id, Suggestion.score == 0.9)
    )
    staff.goto(f"{live_server}/fairs/{db.session.get(Meeting, best).fair_id}/agenda")
    row = staff.locator(f"#m{best}")
    row.locator("details.outcome summary").click()
    row.locator("select[name=outcome]").select_option("contract")
    row.locator("select[name=contract_type]").select_option("技术转让")
    row.locator("input[name=amount]").fill("350")
    row.locator("details.outcome button[type=submit]").click()
    staff.wait_for_load_state()
    assert "洽谈结果已记录" in staff.content()
    assert staff.locator(f"#m{best} td.status").inner_text().startswith("已举行")

    staff.goto(f"{live_server}/dashboard/")
    funnel = staff.locator("#funnel svg")
    assert funnel.count() == 1
    stage = '#funnel g.stage[data-stage="{}"]'
    assert staff.locator(stage.format("系统推荐配对")).get_attribute("data-value") == "9"
    assert staff.locator(stage.format("签约")).get_attribute("data-value") == "1"
    assert "350.00万元" in staff.inner_text("#totals")
    assert staff.locator("#trend svg polyline").count() == 4
