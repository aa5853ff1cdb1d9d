"""A real browser walks a 卡脖子 problem from posting to a contract counted on the dashboard:
company posts → staff publishes and lists it → two institutes apply → experts score → staff
choose → the pair reaches contract on the workbench → the dashboard counts it under the list and
under the broker's agency."""

from datetime import date, timedelta

import pytest

from matchmaker.challenges import agencies
from matchmaker.challenges.models import BottleneckEntry, ChallengeApplication
from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import field_by_name
from tests.browser import login_page

pytestmark = pytest.mark.slow
FIELD = "机器人与智能制造"
TITLE = "大型铸件内部缺陷的在线无损检测"


def _post_bottleneck_need(page, base):
    page.goto(f"{base}/needs/new")
    page.fill("input[name=title]", TITLE)
    page.check(f"label.check:has-text('{FIELD}') input")
    page.fill(
        "textarea[name=description]", "重型铸件内部缩孔和裂纹需要在线检测，射线检测效率低、成本高。"
    )
    page.check("input[name=is_bottleneck]")
    page.fill("input[name=deadline]", (date.today() + timedelta(days=120)).isoformat())
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "待审核" in page.inner_text("h1")


def _apply(page, base, entry_id, achievement_title, budget):
    page.goto(f"{base}/challenges/")
    page.click(f"#bottleneck-list a:has-text('{TITLE}')")
    page.click("#apply-link")
    page.fill(
        "textarea[name=approach]", "采用相控阵超声全聚焦成像与自动扫查机构组合的在线检测方案。"
    )
    page.fill("textarea[name=team]", "负责人及检测团队8人")
    page.fill("textarea[name=milestones]", f"{date.today() + timedelta(days=200)} 样机完成")
    page.fill("input[name=budget_asked]", budget)
    page.check(f"label.check:has-text('{achievement_title}') input")
    page.click("#apply-form button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#application-status") == "已提交"


def _review(page, base, application_id, scores):
    page.goto(f"{base}/challenges/applications/{application_id}")
    page.fill("#review-form input[name=expert_name]", "刘教授")
    for n, score in enumerate(scores):
        page.fill(f"#review-form input[name=score_{n}]", str(score))
    page.click("#review-form button")
    page.wait_for_load_state()
    assert "专家评审意见已录入" in page.content()


def test_bottleneck_problem_goes_from_posting_to_a_counted_contract(
    live_server, browser, make_user, make_org, make_achievement
):
    base = live_server
    company = make_user("enterprise", display_name="陈总工")
    staff = make_user("staff", display_name="王科长")
    first = make_user("institute", display_name="赵研究员")
    second = make_user("institute", display_name="钱教授")
    agency = make_org(kind="agency", name="沈阳技术转移示范中心")
    broker = make_user("broker", display_name="李经纪", org=agency)
    broker.fields = [field_by_name(FIELD)]
    db.session.commit()
    agencies.set_agency(agency.id, staff.id, "national", "2021-04-01")
    agencies.set_broker(broker.id, staff.id, {"agency_id": agency.id})
    make_achievement(title="相控阵超声在线探伤系统", organization=first.organization)
    make_achievement(title="超声导波铸件检测装置", organization=second.organization)

    page = login_page(browser, base, company.login)
    _post_bottleneck_need(page, base)

    desk = login_page(browser, base, staff.login)
    desk.goto(f"{base}/review/")
    desk.click(f"tr:has-text('{TITLE}') >> text=审核")
    desk.click("button:has-text('通过并发布')")
    desk.wait_for_load_state()
    desk.goto(f"{base}/challenges/screening")
    row = desk.locator(f"#screening-queue tr:has-text('{TITLE}')")
    row.locator("select[name=decision]").select_option("accept")
    row.locator("button").click()
    desk.wait_for_load_state()
    desk.click(f"#entries a:has-text('{TITLE}')")
    desk.select_option("#classify-form select[name=category]", "检验检测")
    desk.select_option("#classify-form select[name=difficulty]", "较难")
    desk.fill("#classify-form input[name=expected_funding]", "500")
    desk.click("#classify-form button")
    desk.wait_for_load_state()
    desk.goto(f"{base}/challenges/screening")
    desk.click("#publish-form button")
    desk.wait_for_load_state()
    assert TITLE in desk.inner_text("#bottleneck-list")
    entry_id = db.session.query(BottleneckEntry.id).scalar()

    for user, title, budget in (
        (first, "相控阵超声在线探伤系统", "300"),
        (second, "超声导波铸件检测装置", "260"),
    ):
        applicant = login_page(browser, base, user.login)
        _apply(applicant, base, entry_id, title, budget)
        applicant.context.close()

    page.goto(f"{base}/challenges/entries/{entry_id}")
    side_by_side = page.locator("#applications tr[data-application]")
    assert side_by_side.count() == 2
    db.session.expire_all()
    ids = [a.id for a in db.session.query(ChallengeApplication).order_by(ChallengeApplication.id)]
    _review(desk, base, ids[0], (9, 8, 9, 8))
    _review(desk, base, ids[1], (7, 7, 6, 8))
    desk.goto(f"{base}/challenges/applications/{ids[0]}")
    desk.click("#choose-form button")
    desk.wait_for_load_state()
    assert desk.get_attribute("#pair-state", "data-state") == "recommended"
    pair_id = int(desk.url.rstrip("/").rsplit("/", 1)[-1])

    for user in (company, first):
        party = login_page(browser, base, user.login)
        party.goto(f"{base}/my/pairs")
        party.click(f"tr[data-pair='{pair_id}'] button.accept")
        party.wait_for_load_state()
        party.context.close()

    brk = login_page(browser, base, broker.login)
    brk.goto(f"{base}/pairs/{pair_id}")
    assert brk.get_attribute("#pair-state", "data-state") == "accepted"
    starts = brk.locator("#meeting-form input[name=starts_at]")
    if starts.count():
        starts.fill((date.today() + timedelta(days=5)).isoformat() + "T10:00")
    brk.fill("#meeting-form input[name=place]", "航宇铸造会议室")
    brk.click("#meeting-form button")
    brk.click("#met-form button")
    brk.click("#intention-form button")
    brk.select_option("#contract-form select[name=contract_type]", "技术开发")
    brk.fill("#contract-form input[name=amount]", "280")
    brk.fill("#contract-form input[name=signed_on]", date.today().isoformat())
    brk.click("#contract-form button")
    assert brk.get_attribute("#pair-state", "data-state") == "contract"

    desk.goto(f"{base}/dashboard/")
    figures = desk.locator("#challenge-figures")
    assert figures.locator("[data-key=list_contracts] b").inner_text() == "1"
    assert figures.locator("[data-key=list_contract_value] b").inner_text() == "280.00"
    agency_row = desk.locator(f"#per-agency tr[data-agency='{agency.id}']").inner_text()
    assert "沈阳技术转移示范中心" in agency_row and "280.00" in agency_row
