"""The listing pages as people use them: forms with errors next to fields, lists, detail, review."""

import re

from sqlalchemy import select

from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.pairs.models import Suggestion


def robot_form(**kw):
    field = field_by_name("机器人与智能制造")
    data = {
        "title": "协作机器人关节模组",
        "description": "高精度协作机器人关节模组，集成力矩传感器。",
        "keywords": "协作机器人、关节模组",
        "fields": [str(field.id)],
        "maturity": "中试",
        "transfer_modes": ["许可"],
        "price_min": "50",
        "price_max": "120",
        "action": "submit",
    }
    data.update(kw)
    return data


def test_form_shows_errors_next_to_fields_and_keeps_input(client, login, make_user):
    login(make_user("institute"))
    response = client.post(
        "/achievements/new", data=robot_form(title="", price_min="80", price_max="20")
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-field="title">请填写标题' in html
    assert "价格上限（万元）不能小于价格下限（万元）" in html
    assert "协作机器人关节模组，集成力矩传感器" in html
    assert db.session.scalar(select(Achievement.id)) is None


def test_post_review_publish_then_found_by_search(client, login, make_user):
    poster = make_user("institute")
    staff = make_user("staff")
    login(poster)
    response = client.post("/achievements/new", data=robot_form())
    assert response.status_code == 302
    row = db.session.scalar(select(Achievement))
    assert row.status == "pending"
    login(staff)
    assert row.title in client.get("/review/").get_data(as_text=True)
    response = client.post(f"/review/achievements/{row.id}", data={"decision": "publish"})
    assert response.status_code == 302
    html = client.get("/achievements/?q=机器人").get_data(as_text=True)
    assert "<mark>机器人</mark>" in html and "共 1 条" in html
    html = client.get(f"/achievements/{row.id}").get_data(as_text=True)
    assert "审核通过并发布" in html and "提交审核" in html


def test_return_reason_is_shown_to_the_poster(client, login, make_user):
    poster = make_user("enterprise")
    staff = make_user("staff")
    login(poster)
    field = field_by_name("新材料")
    client.post(
        "/needs/new",
        data={
            "title": "耐高温涂层需求",
            "description": "需要耐800度高温的涂层材料。",
            "fields": [str(field.id)],
            "action": "submit",
        },
    )
    need = db.session.scalar(select(Need))
    login(staff)
    response = client.post(f"/review/needs/{need.id}", data={"decision": "return"})
    assert response.status_code == 400 and "请填写原因" in response.get_data(as_text=True)
    client.post(f"/review/needs/{need.id}", data={"decision": "return", "reason": "请写明技术指标"})
    login(poster)
    html = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "审核意见：请写明技术指标" in html
    html = client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    assert "审核意见：请写明技术指标" in html


def test_detail_shows_suggestions_to_owner_and_brokers_only(
    client, login, make_user, make_achievement, make_need
):
    poster = make_user("institute")
    achievement = make_achievement(title="协作机器人", organization=poster.organization)
    need = make_need(title="机器人焊接")
    db.session.add(
        Suggestion(
            need_id=need.id, achievement_id=achievement.id, score=0.42, terms=[["机器人", 0.6]]
        )
    )
    db.session.commit()
    suggestion_id = db.session.scalar(select(Suggestion.id))
    login(poster)
    html = client.get(f"/achievements/{achievement.id}").get_data(as_text=True)
    assert "0.42" in html and "机器人焊接" in html
    # Issue 16: a poster may open a pair only once a broker recommended it; no link to a 403.
    assert f'href="/pairs/{suggestion_id}"' not in html and "经纪人推荐后可查看" in html
    pair = db.session.get(Suggestion, suggestion_id)
    pair.state, pair.achievement_answer = "recommended", None
    db.session.commit()
    html = client.get(f"/achievements/{achievement.id}").get_data(as_text=True)
    assert f'href="/pairs/{suggestion_id}"' in html
    assert client.get(f"/pairs/{suggestion_id}").status_code == 200
    login(make_user("broker"))
    html = client.get(f"/achievements/{achievement.id}").get_data(as_text=True)
    if f"/pairs/{suggestion_id}" in html:  # only for a broker who may open it
        assert client.get(f"/pairs/{suggestion_id}").status_code == 200
    login(make_user("staff"))
    assert f"/pairs/{suggestion_id}" in client.get(f"/achievements/{achievement.id}").get_data(
        as_text=True
    )
    login(make_user("institute"))
    assert "/pairs/" not in client.get(f"/achievements/{achievement.id}").get_data(as_text=True)


def test_titles_are_escaped(client, login, make_user, make_achievement):
    make_achievement(title="<script>alert(1)</script>机器人")
    login(make_user("broker"))
    html = client.get("/achievements/?q=机器人").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_new_since_last_visit_lists_recent_needs_for_brokers(client, login, make_user, make_need):
    from datetime import timedelta

    from matchmaker.core.db import utcnow

    broker = make_user("broker")
    old = make_need(title="很早以前的需求", published_at=utcnow() - timedelta(days=30))
    login(broker)  # first login: previous_seen_at stays empty
    login(broker)  # second login: previous visit is now
    fresh = make_need(title="刚发布的需求", published_at=utcnow() + timedelta(seconds=1))
    html = client.get("/listings/new-since").get_data(as_text=True)
    assert fresh.title in html and old.title not in html


def test_filters_with_bad_values_say_what_is_wrong(client, login, make_user):
    login(make_user("broker"))
    response = client.get("/needs/?min=abc")
    assert response.status_code == 400
    assert "金额应为不小于0的数字" in response.get_data(as_text=True)


def test_list_paginates(client, login, make_user, make_need):
    for i in range(23):
        make_need(title=f"分页需求{i:02d}")
    login(make_user("broker"))
    html = client.get("/needs/").get_data(as_text=True)
    assert "共 23 条" in html and "第 1 / 2 页" in html
    html = client.get("/needs/?page=2").get_data(as_text=True)
    assert len(re.findall(r"分页需求\d\d", html)) == 3


def test_unknown_query_arguments_are_ignored(client, login, make_user):
    login(make_user("broker"))
    assert client.get("/needs/?kinds=x&fmt=y&page=1&q=a").status_code == 200


def test_staff_see_how_many_listings_wait_for_review(client, login, make_user, make_need):
    make_need(status="pending")
    login(make_user("staff"))
    assert "有 1 条信息等待审核" in client.get("/listings/new-since").get_data(as_text=True)


def test_search_without_hits_offers_the_index_terms_it_sounds_or_looks_like(
    client, login, make_user, make_achievement
):
    """Issue 16: 机器仁 → 机器人, 无损检侧 → 无损检测, from the index's own terms."""
    from matchmaker.listings import suggest as listing_suggest

    make_achievement(title="焊接机器人视觉引导系统", description="工业机器人焊缝跟踪")
    make_achievement(title="超声无损检测装备", description="无损检测与缺陷识别")
    listing_suggest.clear_cache()
    login(make_user("broker"))
    for typo, meant in (("机器仁", "机器人"), ("无损检侧", "无损检测")):
        html = client.get(f"/achievements/?q={typo}").get_data(as_text=True)
        assert "没有符合条件的" in html and "您是不是要找" in html, typo
        assert f">{meant}</a>" in html, typo
        followed = client.get(f"/achievements/?q={meant}").get_data(as_text=True)
        assert "没有符合条件的" not in followed
    html = client.get("/achievements/?q=量子纠缠通信").get_data(as_text=True)
    assert "您是不是要找" not in html
    assert "您是不是要找" not in client.get("/achievements/?q=机器人").get_data(as_text=True)
