"""The workbench pages and the pairs API, as brokers, parties and staff see them."""

import csv
import email
import io
import socket
import socketserver
import threading
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications import notify as notifications
from matchmaker.notifications.models import Notification, OutboxEmail
from matchmaker.pairs import actions as pair_actions
from matchmaker.pairs import data as pair_data
from matchmaker.pairs import notices
from matchmaker.pairs import transitions as service
from matchmaker.pairs.models import Suggestion
from matchmaker.pairs.views import highlight

# A meeting a week ahead (local time), as the 安排约见 form requires.
MEETING = {
    "starts_at": f"{datetime.now() + timedelta(days=7):%Y-%m-%d} 14:00",
    "place": "沈阳市浑南区创新路1号 会议室A",
}

FIELD = "机器人与智能制造"


@pytest.fixture
def world(make_user, make_need, make_achievement, make_org):
    """A broker of the field, two parties, and one suggested pair between them."""
    broker = make_user("broker", display_name="王经纪")
    broker.fields = [field_by_name(FIELD)]
    company = make_org(kind="enterprise", contact_name="李总", contact_phone="13800000000")
    institute = make_org(kind="institute", contact_name="张老师", contact_phone="13900000000")
    need = make_need(
        title="焊接机器人视觉引导",
        description="需要焊缝跟踪<script>alert(1)</script>与机器人视觉引导",
        organization=company,
        is_bottleneck=True,
        budget_max=100,
    )
    achievement = make_achievement(
        title="机器人焊缝跟踪系统",
        description="激光视觉焊缝跟踪，适用于机器人焊接",
        organization=institute,
        price_min=50,
        maturity="中试",
        trl=6,
    )
    pair = Suggestion(
        need=need, achievement=achievement, score=0.82, terms=[["焊缝", 0.6], ["视觉", 0.4]]
    )
    db.session.add(pair)
    db.session.commit()
    return {
        "broker": broker,
        "pair": pair,
        "company_user": make_user("enterprise", org=company, email="boss@example.com"),
        "institute_user": make_user("institute", org=institute),
        "staff": make_user("staff"),
    }


def test_highlight_escapes_text_before_marking_terms():
    html = str(highlight("焊缝<b>跟踪</b>焊缝", ["焊缝", "<b>"]))
    assert html == "<mark>焊缝</mark><mark>&lt;b&gt;</mark>跟踪&lt;/b&gt;<mark>焊缝</mark>"


def test_queue_shows_the_brokers_suggestions_best_first_with_bottleneck_tag(
    client, login, world, make_need, make_achievement
):
    other = Suggestion(need=make_need(), achievement=make_achievement(), score=0.95)
    outside = Suggestion(
        need=make_need(fields=["生物医药"]),
        achievement=make_achievement(fields=["生物医药"]),
        score=0.99,
    )
    db.session.add_all([other, outside])
    db.session.commit()
    login(world["broker"])
    page = client.get("/workbench").get_data(as_text=True)
    assert page.index(f'data-pair="{other.id}"') < page.index(f'data-pair="{world["pair"].id}"')
    assert f'data-pair="{outside.id}"' not in page
    assert "卡脖子" in page
    first = client.get("/workbench?bottleneck=1").get_data(as_text=True)
    assert first.index(f'data-pair="{world["pair"].id}"') < first.index(f'data-pair="{other.id}"')
    filtered = client.get("/workbench?min_score=0.9").get_data(as_text=True)
    assert f'data-pair="{world["pair"].id}"' not in filtered


def test_queue_reports_bad_filters_next_to_the_field(client, login, world):
    login(world["broker"])
    response = client.get("/workbench?min_score=abc")
    assert response.status_code == 400
    assert "请填写0到1之间的数字" in response.get_data(as_text=True)


def test_pair_page_shows_both_sides_with_terms_marked_and_escaped(client, login, world):
    login(world["broker"])
    page = client.get(f"/pairs/{world['pair'].id}").get_data(as_text=True)
    assert "<mark>焊缝</mark>跟踪&lt;script&gt;" in page
    assert "<script>alert" not in page
    assert "预算覆盖报价" in page and "同属机器人与智能制造" in page
    assert "李总" in page  # brokers see contacts


def test_parties_see_contacts_only_once_both_sides_are_interested(client, login, world):
    pair, broker = world["pair"], world["broker"]
    service.transition(pair.id, broker.id, "recommended")
    login(world["institute_user"])
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert "李总" not in page and "双方均表示有意向后显示联系方式" in page
    client.post(f"/pairs/{pair.id}/move", data={"to": "accepted", "side": "achievement"})
    service.transition(pair.id, world["company_user"].id, "accepted")
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert "李总" in page and "13800000000" in page


def test_party_cannot_see_a_pair_before_it_is_recommended(client, login, world):
    login(world["company_user"])
    assert client.get(f"/pairs/{world['pair'].id}").status_code == 403
    assert "暂无推荐" in client.get("/my/pairs").get_data(as_text=True)


def test_party_declines_from_its_page_and_the_broker_is_told(client, login, world):
    pair = world["pair"]
    service.transition(pair.id, world["broker"].id, "recommended", note="值得一谈")
    login(world["company_user"])
    listing = client.get("/my/pairs").get_data(as_text=True)
    assert f'data-pair="{pair.id}"' in listing and "有意向" in listing
    response = client.post(f"/pairs/{pair.id}/move", data={"to": "declined", "side": "need"})
    assert response.status_code == 400
    assert "婉拒时请说明原因" in response.get_data(as_text=True)
    client.post(
        f"/pairs/{pair.id}/move",
        data={"to": "declined", "side": "need", "reason": "no_plan", "note": "今年没预算"},
    )
    assert db.session.get(Suggestion, pair.id).state == "declined"
    told = db.session.scalars(
        select(Notification.message).where(Notification.user_id == world["broker"].id)
    ).all()
    assert any("暂无合作计划" in m and "今年没预算" in m for m in told)
    assert pair_data.decline_feedback("achievement", pair.achievement_id) == [("暂无合作计划", 1)]
    assert "原因：暂无合作计划" in client.get("/my/pairs").get_data(as_text=True)


def test_illegal_move_in_the_page_shows_the_conflict_message(client, login, world):
    login(world["broker"])
    response = client.post(f"/pairs/{world['pair'].id}/move", data={"to": "met"})
    assert response.status_code == 409
    assert "不能从「系统建议」变为「已洽谈」" in response.get_data(as_text=True)


def test_contract_form_errors_appear_next_to_fields(client, login, world):
    pair = world["pair"]
    pair.state = "intention"
    pair.need_answer = pair.achievement_answer = "interested"
    db.session.commit()
    login(world["broker"])
    response = client.post(
        f"/pairs/{pair.id}/move",
        data={"to": "contract", "contract_type": "技术开发", "amount": "abc", "signed_on": ""},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="contract.amount"' in page and 'data-field="contract.signed_on"' in page


def test_bulk_recommend_moves_every_selected_pair(
    client, login, world, make_need, make_achievement
):
    second = Suggestion(need=make_need(), achievement=make_achievement(), score=0.5)
    db.session.add(second)
    db.session.commit()
    login(world["broker"])
    client.post(
        "/workbench/bulk",
        data={"ids": [world["pair"].id, second.id], "action": "recommended", "note": "批量"},
    )
    states = db.session.scalars(select(Suggestion.state).order_by(Suggestion.id)).all()
    assert states == ["recommended", "recommended"]


def test_propose_page_creates_a_broker_pair(client, login, world, make_need, make_achievement):
    need, achievement = make_need(), make_achievement()
    login(world["broker"])
    response = client.post(
        "/workbench/propose", data={"need_id": need.id, "achievement_id": achievement.id}
    )
    assert response.status_code == 302
    pair = db.session.scalar(select(Suggestion).where(Suggestion.source == "broker"))
    assert response.headers["Location"].endswith(f"/pairs/{pair.id}")
    bad = client.post("/workbench/propose", data={"need_id": "x", "achievement_id": ""})
    assert "请填写已发布的需求编号" in bad.get_data(as_text=True)


def test_notification_bell_counts_unread_and_list_marks_read(client, login, world):
    service.transition(world["pair"].id, world["broker"].id, "recommended")
    login(world["company_user"])
    page = client.get("/my/pairs").get_data(as_text=True)
    assert 'data-unread="1"' in page
    assert "请答复是否有合作意向" in client.get("/notifications").get_data(as_text=True)
    client.post("/notifications/read")
    assert "data-unread" not in client.get("/my/pairs").get_data(as_text=True)


def test_outbox_is_logged_without_mail_server_and_visible_to_staff(client, login, world):
    service.transition(world["pair"].id, world["broker"].id, "recommended")
    assert notifications.deliver_outbox() == {"sent": 0, "failed": 0, "logged": 1}
    mail = db.session.scalar(select(OutboxEmail))
    assert (mail.to_address, mail.status) == ("boss@example.com", "logged")
    login(world["staff"])
    assert "boss@example.com" in client.get("/outbox").get_data(as_text=True)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib.send_message: greet, accept one message, keep it."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "DATA":
                self.wfile.write(b"354 go on\r\n")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.server.messages.append(body.decode())
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_outbox_task_sends_through_smtp_when_configured(app, world, smtp_server):
    from workers.tasks import deliver_outbox

    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.server_address[1],
        PUBLIC_URL="http://match.test/",
    )
    service.transition(world["pair"].id, world["broker"].id, "recommended")
    assert deliver_outbox() == {"sent": 1, "failed": 0, "logged": 0}
    (message,) = smtp_server.messages
    assert "To: boss@example.com" in message
    body = email.message_from_string(message).get_payload(decode=True).decode()
    assert f"查看：http://match.test/pairs/{world['pair'].id}" in body
    assert db.session.scalar(select(OutboxEmail.status)) == "sent"


def test_outbox_keeps_mail_pending_when_the_server_is_down(app, world):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_closed_port())
    service.transition(world["pair"].id, world["broker"].id, "recommended")
    assert notifications.deliver_outbox()["failed"] == 1
    mail = db.session.scalar(select(OutboxEmail))
    assert (mail.status, mail.attempts) == ("pending", 1) and mail.error


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_reminders_reach_the_side_that_has_not_answered_once(runner, world):
    from datetime import timedelta

    pair = world["pair"]
    service.transition(pair.id, world["broker"].id, "recommended")
    service.transition(pair.id, world["institute_user"].id, "accepted")
    pair = db.session.get(Suggestion, pair.id)
    pair.state_changed_at -= timedelta(days=10)
    db.session.commit()
    result = runner.invoke(args=["pairs", "remind"])
    assert result.exit_code == 0, result.output
    assert '"pairs": 1' in result.output
    reminded = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "reminder")
    ).all()
    assert reminded == [world["company_user"].id]
    assert notices.send_reminders()["pairs"] == 0


def test_figures_count_the_funnel_and_export(client, login, world):
    pair, broker = world["pair"], world["broker"]
    service.transition(pair.id, broker.id, "recommended")
    service.transition(pair.id, world["company_user"].id, "accepted")
    service.transition(pair.id, world["institute_user"].id, "accepted")
    for to in ("meeting_scheduled", "met", "intention"):
        service.transition(pair.id, broker.id, to, meeting=MEETING)
    contract = {"type": "技术转让", "amount": "88", "signed_on": date.today().isoformat()}
    service.transition(pair.id, broker.id, "contract", contract=contract)
    login(world["staff"])
    page = client.get("/workbench/figures").get_data(as_text=True)
    assert "王经纪" in page and "88.0" in page
    rows = list(
        csv.reader(
            io.StringIO(client.get("/workbench/figures.csv?by=field").data.decode("utf-8-sig"))
        )
    )
    assert rows[0][0] == "技术领域" and rows[1][0] == FIELD
    assert rows[1][1:8] == ["1", "1", "1", "1", "1", "1", "88.0"]
    book = load_workbook(io.BytesIO(client.get("/workbench/figures.xlsx").data))
    assert book.active["A2"].value == "王经纪"


def test_api_lists_reads_and_moves_pairs(client, world):
    from matchmaker.accounts.users import issue_token

    headers = {"Authorization": f"Bearer {issue_token(world['broker'].login)}"}
    pair_id = world["pair"].id
    listing = client.get("/api/v1/pairs?state=suggested", headers=headers).get_json()
    assert [p["id"] for p in listing["items"]] == [pair_id] and listing["total"] == 1
    moved = client.post(
        f"/api/v1/pairs/{pair_id}/transitions",
        json={"to": "recommended", "note": "很合适"},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.get_json()["state"] == "recommended"
    body = client.get(f"/api/v1/pairs/{pair_id}", headers=headers).get_json()
    assert {"state", "score", "terms", "need", "achievement", "history"} <= set(body)
    assert body["history"][0]["from"] == "suggested" and body["history"][0]["to"] == "recommended"
    assert body["history"][0]["by"] == "王经纪" and body["history"][0]["note"] == "很合适"
    illegal = client.post(
        f"/api/v1/pairs/{pair_id}/transitions", json={"to": "contract"}, headers=headers
    )
    assert illegal.status_code == 409 and "不能" in illegal.get_json()["message"]
    bad = client.post(f"/api/v1/pairs/{pair_id}/transitions", json={"note": 1}, headers=headers)
    assert bad.status_code == 400 and set(bad.get_json()["errors"]) == {"to", "note"}


def test_api_party_answers_and_strangers_get_403(client, world, make_user):
    from matchmaker.accounts.users import issue_token

    pair_id = world["pair"].id
    service.transition(pair_id, world["broker"].id, "recommended")
    party = {"Authorization": f"Bearer {issue_token(world['company_user'].login)}"}
    stranger = {"Authorization": f"Bearer {issue_token(make_user('enterprise').login)}"}
    other_broker = make_user("broker")
    other = {"Authorization": f"Bearer {issue_token(other_broker.login)}"}
    body = {"to": "accepted", "side": "need"}
    assert (
        client.post(f"/api/v1/pairs/{pair_id}/transitions", json=body, headers=stranger).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/pairs/{pair_id}/transitions",
            json={"to": "closed", "reason": "x"},
            headers=other,
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/pairs/{pair_id}", headers=stranger).status_code == 403
    answered = client.post(f"/api/v1/pairs/{pair_id}/transitions", json=body, headers=party)
    assert answered.status_code == 200 and answered.get_json()["need_answer"] == "interested"
    assert answered.get_json()["achievement"]["organization"].get("contact_name") is None
    assert [p["id"] for p in client.get("/api/v1/pairs", headers=party).get_json()["items"]] == [
        pair_id
    ]


def test_openapi_documents_the_pair_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/pairs"] and "get" in paths["/api/v1/pairs/{id}"]
    assert "409" in paths["/api/v1/pairs/{id}/transitions"]["post"]["responses"]


def test_queue_filters_new_since_last_visit_claims_and_hides_snoozed(
    client, login, world, make_need, make_achievement
):
    from datetime import timedelta

    broker, old = world["broker"], world["pair"]
    old.created_at -= timedelta(days=3)
    broker.last_seen_at = old.created_at + timedelta(days=1)
    fresh = Suggestion(need=make_need(), achievement=make_achievement(), score=0.3)
    snoozed = Suggestion(need=make_need(), achievement=make_achievement(), score=0.2)
    db.session.add_all([fresh, snoozed])
    db.session.commit()
    pair_actions.claim(old.id, broker.id)
    pair_actions.snooze(snoozed.id, broker.id, 5)
    login(broker)  # this visit moves last_seen_at into previous_seen_at

    def shown(query):
        page = client.get(f"/workbench?{query}").get_data(as_text=True)
        return {p.id for p in (old, fresh, snoozed) if f'data-pair="{p.id}"' in page}

    assert shown("") == {old.id, fresh.id}
    assert shown("new=1") == {fresh.id}
    assert shown("claim=mine") == {old.id}
    assert shown("claim=unclaimed") == {fresh.id}
    assert shown("snoozed=1") == {old.id, fresh.id, snoozed.id}
    assert shown("unreviewed=0&state=suggested&snoozed=1") == {old.id, fresh.id, snoozed.id}


def test_pair_action_forms_carry_a_csrf_token_that_is_checked(app, client, login, world):
    import re

    login(world["broker"])
    app.config["WTF_CSRF_ENABLED"] = True
    pair_id = world["pair"].id
    page = client.get(f"/pairs/{pair_id}").get_data(as_text=True)
    form = page[page.index('id="recommend-form"') :]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    refused = client.post(f"/pairs/{pair_id}/move", data={"to": "recommended"})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    accepted = client.post(
        f"/pairs/{pair_id}/move", data={"to": "recommended", "csrf_token": token}
    )
    assert accepted.status_code == 302
    assert db.session.get(Suggestion, pair_id).state == "recommended"
