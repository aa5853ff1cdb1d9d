"""The listing JSON API: same rules as the pages, JSON errors with field messages, pagination."""

from datetime import date, timedelta

from matchmaker.accounts.users import issue_token


def bearer(user):
    return {"Authorization": f"Bearer {issue_token(user.login)}"}


def need_body(**kw):
    body = {
        "title": "焊缝视觉检测需求",
        "description": "需要一套焊缝表面缺陷在线视觉检测系统。",
        "fields": ["机器人与智能制造"],
        "budget_min": 10,
        "budget_max": 30,
        "deadline": (date.today() + timedelta(days=20)).isoformat(),
        "is_bottleneck": True,
    }
    body.update(kw)
    return body


def test_enterprise_creates_submits_and_staff_publishes_over_api(client, make_user):
    company, staff = make_user("enterprise"), make_user("staff")
    h = bearer(company)
    r = client.post("/api/v1/needs", json=need_body(), headers=h)
    assert r.status_code == 201, r.json
    need_id = r.json["id"]
    assert r.json["status"] == "draft" and r.json["is_bottleneck"] is True
    assert client.post(f"/api/v1/needs/{need_id}/submit", headers=h).json["status"] == "pending"
    r = client.post(
        f"/api/v1/needs/{need_id}/review", json={"decision": "publish"}, headers=bearer(staff)
    )
    assert r.json["status"] == "published"
    r = client.get("/api/v1/needs?q=视觉&bottleneck=1", headers=bearer(make_user("broker")))
    assert r.json["total"] == 1 and r.json["items"][0]["id"] == need_id
    events = client.get(f"/api/v1/needs/{need_id}/events", headers=h).json["items"]
    assert [e["action"] for e in events] == ["created", "submitted", "published"]


def test_api_errors_name_each_field(client, make_user):
    h = bearer(make_user("enterprise"))
    r = client.post("/api/v1/needs", json=need_body(title=5, budget_min=-1, fields="x"), headers=h)
    assert r.status_code == 400
    assert r.json["errors"]["budget_min"] == "预算下限（万元）不能为负数"
    assert r.json["errors"]["fields"] == "未知的技术领域：x"
    r = client.post("/api/v1/needs", data="not json", headers=h)
    assert r.status_code == 400 and r.json["errors"] == {"body": "请求体应为 JSON 对象"}


def test_api_paginates_and_hides_other_orgs_drafts(client, make_user, make_need):
    for i in range(5):
        make_need(title=f"公开需求{i}")
    other = make_need(title="别人的草稿", status="draft")
    h = bearer(make_user("enterprise"))
    r = client.get("/api/v1/needs?per_page=2&page=3", headers=h)
    assert r.json["total"] == 5 and r.json["pages"] == 3 and len(r.json["items"]) == 1
    assert client.get(f"/api/v1/needs/{other.id}", headers=h).status_code == 404
    assert client.get("/api/v1/needs?per_page=1000", headers=h).status_code == 400
    assert client.get("/api/v1/needs/99999999999", headers=h).status_code == 404


def test_openapi_documents_every_listing_operation(client):
    spec = client.get("/api/v1/openapi.json").json
    assert set(spec["paths"]["/api/v1/achievements/{listing_id}"]) == {"get", "patch"}
    for tail in ("submit", "withdraw", "close", "review"):
        assert "post" in spec["paths"][f"/api/v1/needs/{{listing_id}}/{tail}"]


def test_api_requires_sign_in_to_write_and_to_read_own_listings(client):
    # Reading the published catalogue is public since issue 15; writing and "mine" are not.
    assert client.post("/api/v1/achievements", json={"title": "x"}).status_code == 401
    assert client.get("/api/v1/achievements?scope=mine").status_code == 401
    assert client.get("/api/v1/achievements/1/events").status_code == 401


def test_review_with_odd_json_types_is_a_field_error(client, make_user, make_need):
    need = make_need(status="pending")
    h = bearer(make_user("staff"))
    for body in (
        {"decision": ["publish"]},
        {"decision": "return", "reason": 5},
        {"decision": None},
    ):
        r = client.post(f"/api/v1/needs/{need.id}/review", json=body, headers=h)
        assert r.status_code == 400 and set(r.json["errors"]) <= {"decision", "reason"}, r.json
