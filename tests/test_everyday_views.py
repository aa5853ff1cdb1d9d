"""Everyday use without a browser: home pages per role, the broker's note, taxonomy
administration, brokers' own figures and one display time zone."""

from datetime import datetime

from sqlalchemy import select

from matchmaker.accounts.models import Field
from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications.models import Notification
from matchmaker.pairs import transitions as pairs

ROBOTS = "机器人与智能制造"


def _pair(make_need, make_achievement, make_user):
    from matchmaker.pairs.models import Suggestion

    need = make_need(title="焊接机器人视觉引导需求")
    achievement = make_achievement(title="基于视觉的机器人焊缝跟踪技术")
    pair = Suggestion(need=need, achievement=achievement, score=0.8, terms=[])
    db.session.add(pair)
    broker = make_user("broker", display_name="王经纪")
    broker.fields = [field_by_name(ROBOTS)]
    db.session.commit()
    company = make_user("enterprise", org=need.organization)
    institute = make_user("institute", org=achievement.organization)
    return pair, broker, company, institute


def test_each_role_home_page_links_to_where_it_acts(client, login, make_user, make_need):
    acts = {
        "enterprise": "/needs/new",
        "institute": "/achievements/new",
        "broker": "/workbench",
        "staff": "/review/",
    }
    for role, target in acts.items():
        user = make_user(role)
        login(user)
        page = client.get("/").get_data(as_text=True)
        main = page.split("<main>")[1]
        assert f'href="{target}"' in main, role
        client.post("/auth/logout")
    anonymous = client.get("/").get_data(as_text=True).split("<main>")[1]
    assert 'href="/achievements/"' in anonymous and 'name="q"' in anonymous


def test_company_home_lists_drafts_returned_listings_and_recommendations(
    client, login, make_user, make_need, make_achievement
):
    pair, broker, company, _ = _pair(make_need, make_achievement, make_user)
    make_need(title="本单位草稿需求", organization=company.organization, status="draft")
    make_need(
        title="退回的需求",
        organization=company.organization,
        status="returned",
        review_note="请补充预算",
    )
    pairs.transition(pair.id, broker.id, "recommended", note="双方方向一致，建议面谈")
    login(company)
    page = client.get("/").get_data(as_text=True)
    for text in ("本单位草稿需求", "退回的需求", "请补充预算", "焊接机器人视觉引导需求"):
        assert text in page, text
    assert "推荐说明：双方方向一致，建议面谈" in page


def test_broker_note_reaches_both_parties(client, login, make_user, make_need, make_achievement):
    pair, broker, company, institute = _pair(make_need, make_achievement, make_user)
    pairs.transition(pair.id, broker.id, "recommended", note="双方方向一致，建议面谈")
    for party in (company, institute):
        note = db.session.scalar(
            select(Notification.message).where(Notification.user_id == party.id)
        )
        assert "推荐说明：双方方向一致，建议面谈" in note
        login(party)
        assert "双方方向一致，建议面谈" in client.get("/my/pairs").get_data(as_text=True)
        assert "双方方向一致，建议面谈" in client.get(f"/pairs/{pair.id}").get_data(as_text=True)


def test_staff_merge_and_retire_fields_moving_listings_along(
    client, login, make_user, make_achievement, make_need
):
    login(make_user("staff"))
    assert client.post("/admin/fields/", data={"name": "无损检测"}).status_code == 302
    assert client.post("/admin/fields/", data={"name": "无损检测"}).status_code == 400
    ndt = field_by_name("无损检测")
    testing = field_by_name("检验检测")
    assert testing is not None  # the taxonomy has a home for testing services
    achievement = make_achievement(title="超声相控阵焊缝检测", fields=["无损检测"])
    need = make_need(title="焊缝无损检测服务", fields=["无损检测", "检验检测"])
    response = client.post(f"/admin/fields/{ndt.id}/retire")
    assert response.status_code == 400 and "请选择要将它们移到的领域" in response.get_data(
        as_text=True
    )
    client.post(f"/admin/fields/{ndt.id}/merge", data={"target_id": str(testing.id)})
    db.session.expire_all()
    assert [f.name for f in achievement.fields] == ["检验检测"]
    assert [f.name for f in need.fields] == ["检验检测"]
    assert db.session.get(Field, ndt.id).retired
    assert "无损检测" not in client.get("/achievements/new").get_data(as_text=True)
    client.post(f"/admin/fields/{testing.id}/rename", data={"name": "检验检测认证"})
    db.session.expire_all()
    assert achievement.fields[0].name == "检验检测认证"


def test_brokers_see_only_their_own_figures_row(
    client, login, make_user, make_need, make_achievement
):
    pair, broker, _, _ = _pair(make_need, make_achievement, make_user)
    pairs.transition(pair.id, broker.id, "recommended")
    other = make_user("broker", display_name="赵经纪")
    other.fields = [field_by_name(ROBOTS)]
    db.session.commit()
    login(other)
    page = client.get("/workbench/figures").get_data(as_text=True)
    assert "王经纪" not in page
    assert "王经纪" not in client.get("/workbench/figures.csv").get_data(as_text=True)
    login(make_user("staff"))
    assert "王经纪" in client.get("/workbench/figures").get_data(as_text=True)


def test_times_show_in_the_display_time_zone(app):
    from matchmaker.core.display import localtime

    with app.test_request_context():
        assert localtime(datetime(2026, 12, 1, 16, 30)) == "2026-12-02 00:30"
        assert localtime("2026-12-01T16:30:00Z") == "2026-12-02 00:30"
        app.config["DISPLAY_TIMEZONE"] = "UTC"
        assert localtime(datetime(2026, 12, 1, 16, 30)) == "2026-12-01 16:30"
