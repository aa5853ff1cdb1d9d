"""Security findings of issue 17 (4, 7, 9) and issue 13's hardening: redirects, page numbers,
hostile JSON bodies, CSRF beside junk bearer headers, permission before validation, note caps."""

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from matchmaker.accounts.users import issue_token
from matchmaker.core.exceptions import Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.safe_redirect import is_safe_target
from matchmaker.fairs import organize as fair_service
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications.models import Notification
from matchmaker.pairs import actions as pair_actions
from matchmaker.pairs import transitions as pairs
from matchmaker.pairs.models import PairEvent, Suggestion

FIELD = "机器人与智能制造"
HUGE = "99999999999999999999"


@pytest.fixture
def world(make_need, make_achievement, make_user):
    need, ach = make_need(), make_achievement()
    pair = Suggestion(need=need, achievement=ach, score=0.7, terms=[["焊缝", 0.5]])
    db.session.add(pair)
    db.session.commit()
    broker = make_user("broker", display_name="王经纪")
    broker.fields = [field_by_name(FIELD)]
    db.session.commit()
    return {
        "pair": pair,
        "broker": broker,
        "staff": make_user("staff"),
        "need_user": make_user("enterprise", org=need.organization),
        "ach_user": make_user("institute", org=ach.organization),
        "outsider": make_user("broker"),
    }


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {issue_token(user.login)}"}


# --- finding 4: open redirects --------------------------------------------------------------

UNSAFE = [
    "//evil.example",
    "/\t/evil.example",
    "/%09/evil.example".replace("%09", "\t"),
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " /x",
    "/ /evil.example",
    "",
    None,
]


@pytest.mark.parametrize("target", UNSAFE)
def test_unsafe_targets_are_refused(target):
    assert not is_safe_target(target)


@pytest.mark.parametrize("target", ["/", "/needs/?q=%E6%9C%BA&page=2", "/pairs/12", "/通知"])
def test_local_paths_are_kept(target):
    assert is_safe_target(target)


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\\evil.example", "//evil.example"])
def test_login_next_never_leaves_the_site(client, make_user, target):
    from tests.conftest import PASSWORD

    user = make_user("broker")
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"login": user.login, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert response.headers["Location"] == "/"


def test_login_next_with_a_newline_is_no_500(client, make_user):
    from tests.conftest import PASSWORD

    user = make_user("broker")
    response = client.post(
        "/auth/login",
        data={"login": user.login, "password": PASSWORD, "next": "/x\r\nSet-Cookie: a=b"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_notification_read_next_stays_local(client, login, world):
    login(world["broker"])
    note = Notification(user_id=world["broker"].id, kind="test", message="m", link="/pairs/1")
    db.session.add(note)
    db.session.commit()
    for target in ("/\t/evil.example", "/\n/evil.example", "https://evil.example"):
        response = client.post("/notifications/read", data={"id": note.id, "next": target})
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/notifications"
    ok = client.post("/notifications/read", data={"id": note.id, "next": "/pairs/1"})
    assert ok.headers["Location"] == "/pairs/1"


def test_workbench_bulk_back_stays_local(client, login, world):
    login(world["broker"])
    for target in ("https://evil.example/", "/\t/evil.example", "/x\ny"):
        response = client.post(
            "/workbench/bulk",
            data={"ids": [world["pair"].id], "action": "claim", "back": target},
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/workbench"
    ok = client.post("/workbench/bulk", data={"ids": ["1"], "action": "claim", "back": "/x?a=1"})
    assert ok.headers["Location"] == "/x?a=1"


# --- finding 9: page numbers ----------------------------------------------------------------


@pytest.mark.parametrize("raw", [HUGE, "²", "-1", "0", "1e3"])
def test_page_numbers_never_500_on_pages(client, login, world, raw):
    login(world["staff"])
    for path in ("/workbench", "/notifications", "/outbox"):
        response = client.get(path, query_string={"page": raw})
        assert response.status_code == 400, (path, raw)
        assert "页码" in response.get_data(as_text=True), path
    # The listing search shows its form again with the error beside the field.
    assert client.get("/needs/", query_string={"page": raw}).status_code == 400


def test_listing_search_reports_a_huge_page_next_to_the_field(client, login, world):
    login(world["staff"])
    html = client.get("/needs/", query_string={"page": HUGE}).get_data(as_text=True)
    assert "应在1到100000之间" in html


def test_party_pages_take_the_same_page_parser(client, login, world):
    login(world["need_user"])
    response = client.get("/my/pairs", query_string={"page": HUGE})
    assert response.status_code == 400
    assert client.get("/my/pairs", query_string={"page": "2"}).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/pairs", "/api/v1/needs"])
@pytest.mark.parametrize("raw", [HUGE, "²", "0"])
def test_api_page_numbers_are_field_errors(client, world, path, raw):
    response = client.get(path, query_string={"page": raw}, headers=_bearer(world["staff"]))
    assert response.status_code == 400
    assert "page" in response.get_json()["errors"]


def test_api_pairs_per_page_is_capped_by_the_same_parser(client, world):
    h = _bearer(world["staff"])
    assert client.get("/api/v1/pairs?per_page=200", headers=h).status_code == 200
    response = client.get("/api/v1/pairs?per_page=" + HUGE, headers=h)
    assert response.status_code == 400 and "per_page" in response.get_json()["errors"]


def test_bulk_ids_in_other_scripts_are_ignored_not_500(client, login, world):
    login(world["broker"])
    response = client.post("/workbench/bulk", data={"ids": ["²", HUGE], "action": "claim"})
    assert response.status_code == 302


# --- finding 9: hostile JSON bodies ---------------------------------------------------------


def _post_json(client, url, raw: str, headers):
    return client.post(url, data=raw, headers={**headers, "Content-Type": "application/json"})


def test_lone_surrogate_in_a_body_is_a_400_with_a_json_message(client, world):
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    raw = '{"to": "recommended", "note": "\\ud800"}'
    response = _post_json(client, url, raw, _bearer(world["broker"]))
    assert response.status_code == 400
    assert "Unicode" in response.get_json()["message"]
    assert db.session.get(Suggestion, world["pair"].id).state == "suggested"
    key = _post_json(client, "/api/v1/needs", '{"\\udfff": 1}', _bearer(world["need_user"]))
    assert key.status_code == 400 and key.is_json


@pytest.mark.parametrize("depth", [100, 100000])
def test_very_deep_json_is_a_400_with_a_json_message(client, world, depth):
    raw = '{"to": ' + "[" * depth + "]" * depth + "}"
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    response = _post_json(client, url, raw, _bearer(world["broker"]))
    assert response.status_code == 400
    assert "嵌套过深" in response.get_json()["message"]


def test_ordinary_json_still_works(client, world):
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    raw = json.dumps({"to": "recommended", "note": "很匹配😀"})
    assert _post_json(client, url, raw, _bearer(world["broker"])).status_code == 200


# --- finding 7: CSRF with a junk bearer header ----------------------------------------------


def test_cookie_session_write_with_a_junk_bearer_header_needs_csrf(app, client, login, world):
    login(world["broker"])
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    for header in ("Bearer junk", "Bearer ", "Bearer " + "x" * 50):
        response = client.post(url, json={"to": "recommended"}, headers={"Authorization": header})
        assert response.status_code == 400, header
        assert "CSRF" in response.get_json()["message"]
    assert db.session.get(Suggestion, world["pair"].id).state == "suggested"


def test_another_users_token_beside_a_cookie_session_still_needs_csrf(app, client, login, world):
    login(world["broker"])
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    response = client.post(url, json={"to": "recommended"}, headers=_bearer(world["staff"]))
    assert response.status_code == 400 and "CSRF" in response.get_json()["message"]


def test_a_valid_token_needs_no_csrf(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    response = client.post(url, json={"to": "recommended"}, headers=_bearer(world["broker"]))
    assert response.status_code == 200


# --- issue 13: permission before validation; must-meet only on viewable pairs ---------------


def test_broker_outside_the_fields_gets_403_before_400(client, world):
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    response = client.post(url, json={"to": "no-such-state"}, headers=_bearer(world["outsider"]))
    assert response.status_code == 403
    inside = client.post(url, json={"to": "no-such-state"}, headers=_bearer(world["broker"]))
    assert inside.status_code == 400 and "to" in inside.get_json()["errors"]


def test_party_may_not_ask_must_meet_on_a_pair_it_may_not_view(world):
    staff, pair = world["staff"], world["pair"]
    fair = fair_service.create_fair(
        "对接会", date.today() + timedelta(days=7), slots=4, tables=2, actor_id=staff.id
    )
    fair_service.register_all(fair.id, staff.id)
    with pytest.raises(Forbidden):  # only suggested, never recommended to the party
        fair_service.request_must_meet(fair.id, pair.id, world["need_user"].id)
    pairs.transition(pair.id, world["broker"].id, "recommended")
    row = fair_service.request_must_meet(fair.id, pair.id, world["need_user"].id)
    assert row.suggestion_id == pair.id


# --- finding 9: note caps -------------------------------------------------------------------


def test_a_huge_pair_note_is_refused_with_a_field_error(client, world):
    url = f"/api/v1/pairs/{world['pair'].id}/transitions"
    body = {"to": "recommended", "note": "长" * 1_000_000}
    response = client.post(url, json=body, headers=_bearer(world["broker"]))
    assert response.status_code == 400
    assert "备注不能超过2000个字" in response.get_json()["errors"]["note"]
    assert db.session.query(PairEvent).count() == 0


def test_broker_notes_and_bulk_notes_are_capped(world):
    broker, pair = world["broker"], world["pair"]
    with pytest.raises(ServiceError) as e:
        pair_actions.add_note(pair.id, broker.id, "x" * 2001)
    assert e.value.field == "note"
    with pytest.raises(ServiceError):
        pair_actions.bulk([pair.id], broker.id, "snooze", note="x" * 2001)
    pair_actions.add_note(pair.id, broker.id, "x" * 2000)
    assert db.session.query(PairEvent).count() == 1


def test_pair_page_note_form_shows_the_cap(client, login, world):
    login(world["broker"])
    response = client.post(f"/pairs/{world['pair'].id}/note", data={"note": "长" * 5000})
    assert response.status_code in (302, 400)
    assert db.session.query(PairEvent).count() == 0


# --- finding 9: checked import uploads ------------------------------------------------------


def _upload(client, rows, name="a.csv"):
    from tests.listings.test_listings_import import csv_bytes

    return client.post(
        "/achievements/import",
        data={"file": (io.BytesIO(csv_bytes(rows)), name), "status": "draft"},
    )


def _stored(app) -> list:
    folder = Path(app.instance_path) / "imports"
    return sorted(p.name for p in folder.glob("*.bin")) if folder.exists() else []


def test_an_upload_with_nothing_importable_is_not_kept(app, client, login, make_user):
    login(make_user("institute"))
    html = _upload(client, ["A-2,短,机器人与智能制造,,,描述太短,,,,,,,,\n"]).get_data(as_text=True)
    assert "没有可导入的行" in html
    assert _stored(app) == []


def test_a_new_upload_replaces_the_users_earlier_one(app, client, login, make_user):
    from tests.listings.test_listings_import import GOOD

    login(make_user("institute"))
    first = _upload(client, [GOOD]).get_data(as_text=True)
    old = re.search(r"/achievements/import/([0-9a-f]{32})", first).group(1)
    _upload(client, [GOOD])
    assert len(_stored(app)) == 1
    gone = client.post(f"/achievements/import/{old}", data={"mode": "all", "status": "draft"})
    assert gone.status_code == 404


def test_an_organization_keeps_a_bounded_number_of_uploads(app, client, make_user, make_org):
    from matchmaker.listings import import_stash
    from tests.conftest import PASSWORD
    from tests.listings.test_listings_import import GOOD

    org = make_org(kind="institute")
    members = [make_user("institute", org=org) for _ in range(import_stash.MAX_PER_ORG + 3)]
    for user in members:
        c = app.test_client()
        c.post("/auth/login", data={"login": user.login, "password": PASSWORD})
        assert _upload(c, [GOOD]).status_code == 200
    assert len(_stored(app)) == import_stash.MAX_PER_ORG
    other = app.test_client()
    outsider = make_user("institute")
    other.post("/auth/login", data={"login": outsider.login, "password": PASSWORD})
    html = _upload(other, [GOOD]).get_data(as_text=True)
    token = re.search(r"/achievements/import/([0-9a-f]{32})", html).group(1)
    assert len(_stored(app)) == import_stash.MAX_PER_ORG + 1  # another organization's quota
    ok = other.post(f"/achievements/import/{token}", data={"mode": "all", "status": "draft"})
    assert ok.status_code == 302


@pytest.mark.parametrize("raw", [HUGE, "²", "abc"])
def test_typed_ids_and_counts_never_500(client, login, world, raw):
    login(world["staff"])
    assert client.get("/dashboard/", query_string={"fair": raw}).status_code == 400
    assert client.get("/dashboard/export.xlsx", query_string={"fair": raw}).status_code == 400
    api = client.get("/api/v1/dashboard", query_string={"fair": raw})
    assert api.status_code == 400 and "fair" in api.get_json()["errors"]
    assert client.get("/api/v1/runs", query_string={"limit": raw}).status_code == 400
    assert client.get("/runs/", query_string={"limit": raw}).status_code == 200
    assert client.get("/runs/progress.json", query_string={"ids": raw}).status_code == 200
    queue = client.get("/workbench", query_string={"field": raw})
    assert queue.status_code == 400 and "领域无效" in queue.get_data(as_text=True)
    read = client.post("/notifications/read", data={"id": raw})
    assert read.status_code == 302
