"""A real browser walks one pair from suggestion to signed contract: broker, company, institute."""

from datetime import date, timedelta

import pytest

from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.pairs.models import Suggestion
from tests.browser import login_page

pytestmark = pytest.mark.slow


def test_pair_goes_from_suggestion_to_contract_in_a_real_browser(
    live_server, browser, make_user, make_org, make_need, make_achievement
):
    company = make_org(kind="enterprise", contact_name="李总")
    institute = make_org(kind="institute", contact_name="张老师")
    broker = make_user("broker", display_name="王经纪")
    broker.fields = [field_by_name("机器人与智能制造")]
    company_user = make_user("enterprise", org=company)
    institute_user = make_user("institute", org=institute)
    pair = Suggestion(
        need=make_need(title="焊接机器人视觉引导", organization=company),
        achievement=make_achievement(title="机器人焊缝跟踪系统", organization=institute),
        score=0.8,
        terms=[["焊缝", 0.7], ["机器人", 0.3]],
    )
    db.session.add(pair)
    db.session.commit()
    pair_id = pair.id

    brk = login_page(browser, live_server, broker.login)
    brk.goto(f"{live_server}/workbench")
    brk.click(f"tr[data-pair='{pair_id}'] a")
    brk.fill("#recommend-form textarea[name=note]", "双方技术高度契合")
    brk.click("#recommend-form button")
    assert brk.get_attribute("#pair-state", "data-state") == "recommended"

    for user in (company_user, institute_user):
        party = login_page(browser, live_server, user.login)
        party.goto(f"{live_server}/my/pairs")
        party.click(f"tr[data-pair='{pair_id}'] button.accept")
        party.wait_for_load_state()
        party.context.close()

    brk.goto(f"{live_server}/pairs/{pair_id}")
    assert brk.get_attribute("#pair-state", "data-state") == "accepted"
    brk.fill("#meeting-form input[name=starts_at]", f"{date.today() + timedelta(days=3)}T14:00")
    brk.fill("#meeting-form input[name=place]", "市科技局三楼会议室")
    brk.click("#meeting-form button")
    brk.click("#met-form button")
    brk.click("#intention-form button")
    brk.select_option("#contract-form select[name=contract_type]", "技术转让")
    brk.fill("#contract-form input[name=amount]", "150")
    brk.fill("#contract-form input[name=signed_on]", date.today().isoformat())
    brk.click("#contract-form button")
    assert brk.get_attribute("#pair-state", "data-state") == "contract"
    assert "150.00万元" in brk.content()  # one money format everywhere
    history = brk.locator("table.history tr[data-kind]").count()
    assert history == 7  # recommend, two answers, meeting, met, intention, contract

    db.session.expire_all()
    assert db.session.get(Suggestion, pair_id).state == "contract"
