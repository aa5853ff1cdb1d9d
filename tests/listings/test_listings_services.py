"""Posting, review and search of listings through the services."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from matchmaker.core import signals
from matchmaker.core.exceptions import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings import posting as svc
from matchmaker.listings.models import Achievement, ListingEvent, Need
from matchmaker.listings.search import Filters, parse_filters, search
from matchmaker.listings.terms import listing_terms, query_terms


def achievement_data(**kw):
    data = {
        "title": "协作机器人关节模组",
        "description": "高精度协作机器人关节模组，集成力矩传感器与谐波减速器。",
        "keywords": "协作机器人、关节模组",
        "fields": ["机器人与智能制造"],
        "maturity": "中试",
        "transfer_modes": ["许可", "合作开发"],
        "patents": "CN201810123456.7",
        "price_min": "50",
        "price_max": "120",
    }
    data.update(kw)
    return data


def need_data(**kw):
    data = {
        "title": "焊缝视觉检测需求",
        "description": "需要一套焊缝表面缺陷在线视觉检测系统，节拍不超过2秒。",
        "fields": ["机器人与智能制造"],
        "budget_min": "10",
        "budget_max": "30",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "cooperation_modes": "合作开发",
        "is_bottleneck": "是",
    }
    data.update(kw)
    return data


@pytest.fixture
def received():
    seen = []

    def on_published(sender, **kw):
        seen.append(("published", sender, kw["listing_id"]))

    def on_withdrawn(sender, **kw):
        seen.append(("withdrawn", sender, kw["listing_id"]))

    signals.listing_published.connect(on_published)
    signals.listing_withdrawn.connect(on_withdrawn)
    yield seen
    signals.listing_published.disconnect(on_published)
    signals.listing_withdrawn.disconnect(on_withdrawn)


def test_institute_posts_submits_and_staff_publishes(make_user, received):
    poster = make_user("institute")
    staff = make_user("staff")
    row = svc.create_listing("achievement", poster.id, achievement_data())
    assert row.status == "draft" and row.trl == 6 and row.patents == ["CN201810123456.7"]
    svc.submit_listing("achievement", row.id, poster.id)
    assert row.status == "pending" and received == []
    svc.review_listing("achievement", row.id, staff.id, "publish")
    assert row.status == "published" and row.published_at is not None
    assert received == [("published", "achievement", row.id)]
    actions = [e.action for e in svc.history("achievement", row.id)]
    assert actions == ["created", "submitted", "published"]


def test_return_needs_a_reason_the_poster_sees(make_user):
    poster = make_user("enterprise")
    staff = make_user("staff")
    row = svc.create_listing("need", poster.id, need_data(), submit=True)
    with pytest.raises(ServiceError) as err:
        svc.review_listing("need", row.id, staff.id, "return", "")
    assert err.value.errors == {"reason": "退回或不通过时请填写原因，发布方会看到"}
    svc.review_listing("need", row.id, staff.id, "return", "请补充技术指标")
    assert row.status == "returned" and row.review_note == "请补充技术指标"
    svc.submit_listing("need", row.id, poster.id)
    assert row.status == "pending"


def test_validation_reports_each_field_in_chinese(make_user):
    poster = make_user("institute")
    bad = achievement_data(
        title="",
        fields=[],
        maturity="量产",
        transfer_modes=["赠送"],
        patents="12345",
        price_min="-1",
        price_max="abc",
    )
    with pytest.raises(ServiceError) as err:
        svc.create_listing("achievement", poster.id, bad, submit=True)
    errors = err.value.errors
    assert errors["title"] == "请填写标题"
    assert errors["fields"] == "请至少选择一个技术领域"
    assert "未知的成熟度" in errors["maturity"]
    assert "未知的转化方式" in errors["transfer_modes"]
    assert "专利号格式不正确" in errors["patents"]
    assert errors["price_min"] == "价格下限（万元）不能为负数"
    assert "应为数字" in errors["price_max"]
    assert db.session.scalar(select(Achievement.id)) is None


def test_ranges_and_deadline_are_checked(make_user):
    poster = make_user("enterprise")
    with pytest.raises(ServiceError) as err:
        svc.create_listing(
            "need", poster.id, need_data(budget_min="40", budget_max="30", deadline="2020-01-01")
        )
    assert err.value.errors["budget_max"] == "预算上限（万元）不能小于预算下限（万元）"
    assert err.value.errors["deadline"] == "截止日期应晚于今天"


def test_draft_needs_only_a_title_but_submission_needs_everything(make_user):
    poster = make_user("enterprise")
    row = svc.create_listing("need", poster.id, {"title": "一个还没写完的需求"})
    with pytest.raises(ServiceError) as err:
        svc.submit_listing("need", row.id, poster.id)
    assert set(err.value.errors) == {"description", "fields"}


def test_editing_matchable_text_bumps_revision_and_requeues_published(app, make_user, received):
    app.config["LISTING_EDIT_REVIEW"] = "log"  # publish-and-log; the default re-reviews
    poster = make_user("institute")
    staff = make_user("staff")
    row = svc.create_listing("achievement", poster.id, achievement_data(), submit=True)
    svc.review_listing("achievement", row.id, staff.id, "publish")
    received.clear()
    svc.update_listing("achievement", row.id, poster.id, {"contact_name": "张工"})
    assert row.revision == 1 and received == []
    svc.update_listing("achievement", row.id, poster.id, {"title": "七轴协作机器人关节模组"})
    assert row.revision == 2 and row.status == "published"
    assert received == [("published", "achievement", row.id)]
    svc.close_listing("achievement", row.id, poster.id)
    assert received[-1] == ("withdrawn", "achievement", row.id)
    with pytest.raises(Conflict):
        svc.update_listing("achievement", row.id, poster.id, {"title": "再改一次标题"})


def test_text_edits_to_published_listings_go_back_to_review_by_default(make_user, received):
    poster = make_user("institute")
    staff = make_user("staff")
    row = svc.create_listing("achievement", poster.id, achievement_data(), submit=True)
    svc.review_listing("achievement", row.id, staff.id, "publish")
    received.clear()
    svc.update_listing("achievement", row.id, poster.id, {"price_max": "500"})
    assert row.status == "published" and received == []
    svc.update_listing("achievement", row.id, poster.id, {"title": "七轴协作机器人关节模组"})
    assert row.status == "pending" and received == [("withdrawn", "achievement", row.id)]
    assert svc.history("achievement", row.id)[-1].note.endswith("（修改后重新审核）")
    svc.review_listing("achievement", row.id, staff.id, "publish")
    assert row.status == "published" and received[-1] == ("published", "achievement", row.id)


def test_other_organizations_cannot_see_drafts_or_change_listings(make_user):
    poster = make_user("institute")
    stranger = make_user("institute")
    colleague = make_user("institute", org=poster.organization)
    row = svc.create_listing("achievement", poster.id, achievement_data())
    with pytest.raises(NotFound):
        svc.get_visible("achievement", row.id, stranger)
    assert svc.get_visible("achievement", row.id, colleague) is row
    svc.submit_listing("achievement", row.id, colleague.id)
    row.status = "published"
    db.session.commit()
    assert svc.get_visible("achievement", row.id, stranger) is row
    for action in (svc.withdraw_listing, svc.close_listing):
        with pytest.raises(Forbidden):
            action("achievement", row.id, stranger.id)
    with pytest.raises(Forbidden):
        svc.update_listing("achievement", row.id, stranger.id, {"title": "被别人改掉的标题"})


def test_enterprise_cannot_post_achievements_and_only_staff_review(make_user):
    company = make_user("enterprise")
    with pytest.raises(Forbidden):
        svc.create_listing("achievement", company.id, achievement_data())
    poster = make_user("enterprise")
    row = svc.create_listing("need", poster.id, need_data(), submit=True)
    with pytest.raises(Forbidden):
        svc.review_listing("need", row.id, poster.id, "publish")


def test_staff_post_for_an_organization_of_the_right_kind(make_user, make_org):
    staff = make_user("staff")
    company = make_org(kind="enterprise")
    with pytest.raises(ServiceError) as err:
        svc.create_listing("achievement", staff.id, achievement_data(organization_id=company.id))
    assert err.value.errors == {"organization_id": "该单位类型不能发布科技成果"}
    row = svc.create_listing("need", staff.id, need_data(organization_id=str(company.id)))
    assert row.organization_id == company.id


def test_search_terms_include_dictionary_subwords():
    terms = listing_terms("协作机器人关节模组", ["力控"], "谐波减速器")
    assert terms["协作机器人"] == 3 and terms["机器人"] == 3
    assert query_terms("机器人") == ["机器人"]


def test_mode_filter_finds_listings_saved_with_escaped_json(make_user):
    # Rows written before JSON was stored as UTF-8 hold "\u8bb8\u53ef" for 许可.
    poster = make_user("institute")
    staff = make_user("staff")
    robot = svc.create_listing("achievement", poster.id, achievement_data(), submit=True)
    svc.review_listing("achievement", robot.id, staff.id, "publish")
    escaped = json.dumps(["许可"])
    value = "CAST(:v AS JSON)" if db.engine.dialect.name == "postgresql" else ":v"
    db.session.execute(
        text(f"UPDATE achievements SET transfer_modes = {value} WHERE id = :id"),
        {"v": escaped, "id": robot.id},
    )
    db.session.commit()
    stored = db.session.scalar(text("SELECT CAST(transfer_modes AS TEXT) FROM achievements"))
    assert stored == '["\\u8bb8\\u53ef"]'
    page = search("achievement", poster, parse_filters("achievement", {"mode": "许可"}))
    assert [r.id for r in page.items] == [robot.id]
    page = search("achievement", poster, parse_filters("achievement", {"mode": "转让"}))
    assert page.items == []


def test_search_for_robot_finds_collaborative_robot(make_user):
    poster = make_user("institute")
    staff = make_user("staff")
    robot = svc.create_listing("achievement", poster.id, achievement_data(), submit=True)
    other = svc.create_listing(
        "achievement",
        poster.id,
        achievement_data(
            title="锂离子电池正极材料",
            description="高镍三元正极材料制备工艺与产业化。",
            keywords="",
            fields=["新材料"],
            transfer_modes="转让",
            price_min="",
            price_max="",
        ),
        submit=True,
    )
    for row in (robot, other):
        svc.review_listing("achievement", row.id, staff.id, "publish")
    page = search("achievement", poster, parse_filters("achievement", {"q": "机器人"}))
    assert [r.id for r in page.items] == [robot.id]
    page = search("achievement", poster, parse_filters("achievement", {"q": "机器人 电池"}))
    assert page.items == []
    page = search("achievement", poster, parse_filters("achievement", {"mode": "许可"}))
    assert [r.id for r in page.items] == [robot.id]
    page = search("achievement", poster, parse_filters("achievement", {"min": "100"}))
    assert [r.id for r in page.items] == [robot.id]
    page = search("achievement", poster, parse_filters("achievement", {"max": "40"}))
    assert page.items == []


def test_lists_show_published_to_others_and_drafts_to_own_org(make_user, make_achievement):
    poster = make_user("institute")
    stranger = make_user("institute")
    staff = make_user("staff")
    draft = svc.create_listing("achievement", poster.id, achievement_data())
    public = make_achievement(title="公开的成果")
    assert [r.id for r in search("achievement", stranger, Filters()).items] == [public.id]
    mine = search("achievement", poster, Filters(mine=True))
    assert [r.id for r in mine.items] == [draft.id]
    assert search("achievement", stranger, Filters(status="draft")).items == []
    assert [r.id for r in search("achievement", staff, Filters(status="draft")).items] == [draft.id]


def test_need_filters_bottleneck_and_org_kind(make_user, make_need, make_org):
    hot = make_need(title="卡脖子难题", is_bottleneck=True)
    make_need(title="普通需求")
    user = make_user("broker")
    page = search("need", user, parse_filters("need", {"bottleneck": "1"}))
    assert [r.id for r in page.items] == [hot.id]
    page = search("need", user, parse_filters("need", {"org_kind": "institute"}))
    assert page.items == []
    with pytest.raises(ServiceError) as err:
        parse_filters("need", {"min": "x", "since": "昨天"})
    assert set(err.value.errors) == {"min", "since"}


def test_events_are_recorded_for_every_status_change(make_user):
    poster = make_user("enterprise")
    row = svc.create_listing("need", poster.id, need_data(), submit=True)
    svc.withdraw_listing("need", row.id, poster.id)
    rows = db.session.scalars(select(ListingEvent).order_by(ListingEvent.id)).all()
    assert [(e.action, e.from_status, e.to_status) for e in rows] == [
        ("created", None, "draft"),
        ("submitted", "draft", "pending"),
        ("withdrawn", "pending", "draft"),
    ]
    assert db.session.get(Need, row.id).status == "draft"


def test_reindex_command_rebuilds_missing_terms(runner, make_achievement):
    from matchmaker.listings.models import achievement_terms

    row = make_achievement(title="协作机器人关节模组")
    db.session.execute(achievement_terms.delete())
    db.session.commit()
    result = runner.invoke(args=["listings", "reindex"])
    assert result.exit_code == 0 and '"achievements": 1' in result.output
    page = search("achievement", None, parse_filters("achievement", {"q": "机器人"}))
    assert [r.id for r in page.items] == [row.id]
