"""Issue 16 on the server side: one-time form tokens, meetings with time and place, messages that
match the pair's state, the listing's own contact, and the small things seen on the way."""

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matchmaker.accounts.models import User
from matchmaker.core.extensions import db
from matchmaker.fairs.models import Fair, FairRegistration
from matchmaker.listings.models import Need
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications.models import Notification
from matchmaker.pairs import transitions as service
from matchmaker.pairs.models import Meeting, Suggestion

FIELD = "机器人与智能制造"
SOON = f"{datetime.now() + timedelta(days=3):%Y-%m-%dT%H:%M}"


def token_of(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "the form carries no one-time token"
    return found.group(1)


def flashes(html: str) -> list[str]:
    return re.findall(r'<div class="flash[^"]*">([^<]*)</div>', html)


@pytest.fixture
def world(make_user, make_need, make_achievement, make_org):
    broker = make_user("broker", display_name="王经纪")
    broker.fields = [field_by_name(FIELD)]
    company = make_org(kind="enterprise", contact_name="陈总工", contact_phone="024-25816630")
    institute = make_org(kind="institute", contact_name="张老师", contact_phone="13900000000")
    need = make_need(
        title="铸件清理打磨机器人",
        organization=company,
        contact_name="陈工",
        contact_phone="024-88886666",
    )
    achievement = make_achievement(title="打磨机器人力控系统", organization=institute)
    pair = Suggestion(need=need, achievement=achievement, score=0.7, terms=[["打磨", 1.0]])
    db.session.add(pair)
    db.session.commit()
    return {
        "broker": broker,
        "pair": pair,
        "need": need,
        "company_user": make_user("enterprise", org=company),
        "institute_user": make_user("institute", org=institute),
        "staff": make_user("staff"),
    }


def count(model, *where):
    return db.session.scalar(select(func.count(model.id)).where(*where))


# --- double submission: two POSTs with one token make one record -----------------------------


def twice(client, url: str, data: dict, get_url: str | None = None):
    token = token_of(client.get(get_url or url).get_data(as_text=True))
    first = client.post(url, data=data | {"form_token": token})
    second = client.post(url, data=data | {"form_token": token})
    return first, second


def test_listing_form_twice_with_one_token_makes_one_listing(client, login, world):
    login(world["company_user"])
    first, second = twice(client, "/needs/new", {"title": "焊缝视觉检测", "action": "save"})
    assert first.status_code == 302 and second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert count(Need, Need.title == "焊缝视觉检测") == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "该表单已经提交过，没有重复创建" in page


def test_same_title_again_gets_the_imports_duplicate_warning(client, login, world):
    login(world["company_user"])
    data = {"title": "铸件清理打磨机器人", "action": "save"}
    refused = client.post("/needs/new", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "重复：同一单位、同一标题" in html
    assert 'name="confirm_duplicate"' in html
    assert count(Need, Need.title == "铸件清理打磨机器人") == 1
    # The refused form did not spend its token: the corrected form goes through with it.
    token = token_of(html)
    saved = client.post("/needs/new", data=data | {"confirm_duplicate": "1", "form_token": token})
    assert saved.status_code == 302
    assert count(Need, Need.title == "铸件清理打磨机器人") == 2


def test_propose_twice_with_one_token_makes_one_pair(
    client, login, world, make_need, make_achievement
):
    need = make_need(title="协作机器人关节寿命", fields=[FIELD])
    achievement = make_achievement(title="谐波减速器柔轮", fields=[FIELD])
    login(world["broker"])
    # Listings are picked by search, not by typing an id.
    page = client.get("/workbench/propose?need_q=关节寿命&achievement_q=柔轮").get_data(
        as_text=True
    )
    assert f'name="need_id" value="{need.id}"' in page and "协作机器人关节寿命" in page
    assert f'name="achievement_id" value="{achievement.id}"' in page
    assert 'name="need_id" value="" ' not in page and "技术需求编号" not in page
    data = {"need_id": need.id, "achievement_id": achievement.id}
    first, second = twice(client, "/workbench/propose", data)
    assert first.status_code == 302 and second.status_code == 302
    assert count(Suggestion, Suggestion.source == "broker") == 1


def test_fair_and_registration_forms_twice_make_one_record(client, login, world, make_user):
    login(world["staff"])
    held_on = (date.today() + timedelta(days=20)).isoformat()
    data = {"name": "秋季对接会", "held_on": held_on, "tables": "4", "default_quota": "2"}
    first, second = twice(client, "/fairs/new", data)
    assert first.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert count(Fair) == 1
    fair_id = db.session.scalar(select(Fair.id))
    login(world["company_user"])
    data = {"listing": f"need:{world['need'].id}"}
    first, second = twice(client, f"/fairs/{fair_id}/register", data, f"/fairs/{fair_id}")
    assert first.status_code == 302 and second.status_code == 302
    assert count(FairRegistration) == 1


def test_account_registration_twice_makes_one_account(client):
    data = {
        "role": "enterprise",
        "login": "newcomer",
        "password": "long-enough-1",
        "password2": "long-enough-1",
        "org_name": "沈阳新来的公司",
        "org_kind": "enterprise",
    }
    first, second = twice(client, "/auth/register", data)
    assert first.status_code == 302 and second.status_code == 302
    assert count(User, User.login == "newcomer") == 1


def test_meeting_form_twice_makes_one_meeting(client, login, world):
    pair = world["pair"]
    walk_to_accepted(pair, world)
    login(world["broker"])
    data = {"to": "meeting_scheduled", "starts_at": SOON, "place": "沈阳浑南 会议室A"}
    first, second = twice(client, f"/pairs/{pair.id}/move", data, f"/pairs/{pair.id}")
    assert first.status_code == 302 and second.status_code == 302
    assert count(Meeting) == 1


# --- meetings ---------------------------------------------------------------------------------


def walk_to_accepted(pair, world):
    service.transition(pair.id, world["broker"].id, "recommended")
    service.transition(pair.id, world["company_user"].id, "accepted")
    service.transition(pair.id, world["institute_user"].id, "accepted")


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({"starts_at": "", "place": "会议室"}, "meeting.starts_at", "请填写约见时间"),
        ({"starts_at": "2020-01-01T10:00", "place": "会议室"}, "meeting.starts_at", "晚于现在"),
        ({"starts_at": SOON, "place": ""}, "meeting.place", "地点或线上会议链接"),
        (
            {"starts_at": SOON, "online_url": "javascript:alert(1)"},
            "meeting.online_url",
            "http",
        ),
    ],
)
def test_a_meeting_needs_a_future_time_and_a_place(client, login, world, fields, field, message):
    pair = world["pair"]
    walk_to_accepted(pair, world)
    login(world["broker"])
    response = client.post(f"/pairs/{pair.id}/move", data={"to": "meeting_scheduled"} | fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'data-field="{field}"' in html and message in html
    assert db.session.get(Suggestion, pair.id).state == "accepted"
    assert count(Meeting) == 0


def test_meeting_rescheduled_and_cancelled_with_a_reason_and_in_both_calendars(
    client, login, world
):
    pair = world["pair"]
    walk_to_accepted(pair, world)
    login(world["broker"])
    data = {"to": "meeting_scheduled", "starts_at": SOON, "online_url": "https://meet.example/x"}
    done = client.post(f"/pairs/{pair.id}/move", data=data, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "已安排约见" in html and "https://meet.example/x" in html
    assert "配对当前为「已约见」" in html

    later = f"{datetime.now() + timedelta(days=5):%Y-%m-%dT%H:%M}"
    no_reason = client.post(
        f"/pairs/{pair.id}/meeting/reschedule", data={"starts_at": later, "place": "会议室B"}
    )
    assert no_reason.status_code == 400 and "请填写原因" in no_reason.get_data(as_text=True)
    moved = client.post(
        f"/pairs/{pair.id}/meeting/reschedule",
        data={"starts_at": later, "place": "会议室B", "change_reason": "专家出差"},
        follow_redirects=True,
    )
    assert "约见已改期" in moved.get_data(as_text=True)
    meeting = db.session.scalar(select(Meeting))
    assert meeting.place == "会议室B" and meeting.sequence == 1
    assert meeting.change_reason == "专家出差"
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "meeting_moved")
    )
    assert {world["company_user"].id, world["institute_user"].id} <= set(told)

    for party in ("company_user", "institute_user"):
        login(world[party])
        ics = client.get(f"/pairs/{pair.id}/meeting.ics")
        assert ics.status_code == 200 and ics.mimetype == "text/calendar"
        text = ics.get_data(as_text=True)
        starts = datetime.fromisoformat(later).strftime("%Y%m%dT%H%M00")
        assert "BEGIN:VEVENT" in text and f"DTSTART;TZID=Asia/Shanghai:{starts}" in text
        assert "LOCATION:会议室B" in text and "SEQUENCE:1" in text and "\r\n" in text
    login(world["broker"])
    cancelled = client.post(
        f"/pairs/{pair.id}/meeting/cancel",
        data={"change_reason": "企业临时停产"},
        follow_redirects=True,
    )
    assert "约见已取消" in cancelled.get_data(as_text=True)
    assert db.session.get(Suggestion, pair.id).state == "accepted"
    text = client.get(f"/pairs/{pair.id}/meeting.ics").get_data(as_text=True)
    assert "STATUS:CANCELLED" in text and "SEQUENCE:2" in text


# --- messages, contacts, small things ------------------------------------------------------------


def test_messages_state_what_happened(client, login, world):
    pair = world["pair"]
    service.transition(pair.id, world["broker"].id, "recommended")
    login(world["company_user"])
    page = client.post(
        f"/pairs/{pair.id}/move", data={"to": "accepted", "side": "need"}, follow_redirects=True
    ).get_data(as_text=True)
    said = [m for m in flashes(page) if "欢迎" not in m]
    assert said and "需求方有意向" in said[0] and "等待成果方答复" in said[0]
    assert not any("双方" in m for m in said)
    assert 'data-state="recommended"' in page and "已推荐" in said[0]
    login(world["institute_user"])
    page = client.post(
        f"/pairs/{pair.id}/move", data={"to": "accepted"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "双方均有意向" in flashes(page)[-1] and 'data-state="accepted"' in page


def test_pair_page_shows_the_contact_typed_on_the_listing(client, login, world):
    walk_to_accepted(world["pair"], world)
    login(world["institute_user"])
    html = client.get(f"/pairs/{world['pair'].id}").get_data(as_text=True)
    assert "陈工" in html and "024-88886666" in html
    assert "陈总工" not in html and "024-25816630" not in html
    # A listing without a contact of its own falls back to the organization's.
    assert "张老师" in html


def test_claim_not_offered_once_signed_and_badge_clears_when_opened(client, login, world):
    pair = world["pair"]
    walk_to_accepted(pair, world)
    broker = world["broker"]
    meeting = {"starts_at": SOON.replace("T", " "), "place": "会议室A"}
    for to in ("meeting_scheduled", "met", "intention"):
        service.transition(pair.id, broker.id, to, meeting=meeting)
    contract = {"type": "技术开发", "amount": "150", "signed_on": date.today().isoformat()}
    service.transition(pair.id, broker.id, "contract", contract=contract)
    login(world["staff"])
    html = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert ">认领</button>" not in html
    login(world["company_user"])
    unread = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == world["company_user"].id, Notification.read_at.is_(None)
        )
    )
    assert unread > 0
    html = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    left = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == world["company_user"].id, Notification.read_at.is_(None)
        )
    )
    assert left == 0


def test_listing_page_hides_the_external_ref_and_numbers_no_empty_history(
    client, login, world, make_need
):
    need = make_need(external_ref="demo:N02", organization=world["need"].organization)
    login(world["company_user"])
    html = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "demo:N02" not in html and "外部编号" not in html
    assert '<li class="muted">暂无记录</li>' not in html and "暂无记录" in html
    login(world["staff"])
    assert "demo:N02" in client.get(f"/needs/{need.id}").get_data(as_text=True)


def test_every_page_title_ends_with_one_suffix(client, login, world):
    login(world["staff"])
    titles = []
    for path in (
        "/",
        f"/pairs/{world['pair'].id}",
        "/workbench",
        "/runs/",
        f"/needs/{world['need'].id}",
    ):
        html = client.get(path).get_data(as_text=True)
        titles.append(re.search(r"<title>(.*?)</title>", html, re.S).group(1))
    for title in titles:
        assert (
            title.endswith("科技成果转化对接平台") and title.count("科技成果转化对接平台") == 1
        ), title
    assert titles[1] == f"配对 {world['pair'].id} · 科技成果转化对接平台"
