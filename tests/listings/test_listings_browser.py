"""A real browser drives the main path: post → submit → staff publishes → found in search.

Suggestions come from the jobs worker, which this test does not run: it inserts one Suggestion
row directly once the listing is published, then checks the detail page shows it.
"""

import os

import pytest

from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement
from matchmaker.pairs.models import Suggestion
from tests.conftest import PASSWORD


@pytest.fixture
def page(live_server, browser):
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


def sign_in(page, user):
    page.goto("/auth/login")
    page.fill("#login-form input[name=login]", user.login)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


def open_menu_item(page, label: str, menu: str = "成果与需求"):
    """Navigation is grouped into menus (issue 15): open the area's menu, then its item."""
    page.click(f"nav summary:has-text('{menu}')")
    page.click(f"nav >> text={label}")


def sign_out(page):
    page.click("header .who button:has-text('退出')")
    page.wait_for_load_state()


@pytest.mark.slow
def test_institute_posts_staff_publishes_and_it_is_found(page, make_user, make_need):
    poster = make_user("institute", display_name="赵研究员")
    staff = make_user("staff", display_name="王科长")
    need = make_need(title="焊接机器人视觉引导需求")

    sign_in(page, poster)
    open_menu_item(page, "科技成果")
    page.click("text=发布科技成果")
    page.fill("input[name=title]", "七轴协作机器人关节模组")
    page.check("label.check:has-text('机器人与智能制造') input")
    page.fill("input[name=keywords]", "协作机器人、力控")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "请修改下方标出的" in page.content()  # description missing: error next to the field
    assert "请填写详细介绍" in page.inner_text("[data-field=description]")
    page.fill("textarea[name=description]", "集成力矩传感器与谐波减速器的一体化协作机器人关节。")
    page.select_option("select[name=maturity]", "中试")
    page.fill("input[name=price_min]", "50")
    page.fill("input[name=price_max]", "120")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "待审核" in page.inner_text("h1")
    sign_out(page)

    sign_in(page, staff)
    open_menu_item(page, "发布审核")
    page.click("tr:has-text('七轴协作机器人关节模组') >> text=审核")
    page.click("button:has-text('通过并发布')")
    page.wait_for_load_state()
    assert "已发布" in page.content()

    achievement = db.session.query(Achievement).one()
    assert achievement.status == "published"
    db.session.add(
        Suggestion(
            need_id=need.id,
            achievement_id=achievement.id,
            score=0.61,
            terms=[["机器人", 0.5], ["视觉", 0.2]],
            same_field=True,
        )
    )
    db.session.commit()
    suggestion_id = db.session.query(Suggestion.id).scalar()

    open_menu_item(page, "科技成果")
    page.fill("input[name=q]", "机器人")
    page.click("#search-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("article.listing mark", has_text="机器人").count() >= 1
    page.click("article.listing h2 a")
    page.wait_for_load_state()
    suggestions = page.inner_text("#suggestions")
    assert "焊接机器人视觉引导需求" in suggestions and "0.61" in suggestions
    assert page.locator(f"#suggestions a[href='/pairs/{suggestion_id}']").count() == 1
    if os.environ.get("LISTINGS_SCREENSHOT"):
        page.screenshot(path=os.environ["LISTINGS_SCREENSHOT"], full_page=True)
