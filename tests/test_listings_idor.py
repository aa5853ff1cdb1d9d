"""Every listing page and API endpoint, tried by users of other organizations (IDOR)."""

import pytest
from flask import url_for

from matchmaker.extensions import db
from matchmaker.models import Achievement, Need
from matchmaker.services.accounts import issue_token

WRITE_FORM = {
    "title": "被别人篡改的标题",
    "description": "篡改" * 10,
    "decision": "publish",
    "reason": "x",
    "action": "save",
}


def _listing_rules(app):
    for rule in app.url_map.iter_rules():
        if "listing_id" in rule.arguments and rule.endpoint.split(".")[0] in (
            "listings",
            "review",
            "api",
        ):
            yield rule


def _urls(app, rule, ids):
    values = {}
    for kinds, listing_id in ids.items():
        if "kinds" in rule.arguments:
            values = {"kinds": kinds, "listing_id": listing_id}
        else:
            continue
        for arg in rule.arguments - {"kinds", "listing_id"}:
            values[arg] = {"action": "close", "fmt": "csv"}.get(arg, "x")
        with app.test_request_context():
            yield kinds, url_for(rule.endpoint, **values)


@pytest.fixture
def world(make_user, make_org, make_achievement, make_need):
    institute = make_org(kind="institute")
    enterprise = make_org(kind="enterprise")
    owners = {
        "achievements": make_user("institute", org=institute),
        "needs": make_user("enterprise", org=enterprise),
    }
    drafts = {
        "achievements": make_achievement(
            title="机密草稿成果", organization=institute, status="draft"
        ),
        "needs": make_need(title="机密草稿需求", organization=enterprise, status="draft"),
    }
    published = {
        "achievements": make_achievement(title="公开成果原标题", organization=institute),
        "needs": make_need(title="公开需求原标题", organization=enterprise),
    }
    intruders = [make_user("institute"), make_user("enterprise"), make_user("broker")]
    return owners, drafts, published, intruders


def _send(client, method, url, user, api):
    headers = {"Authorization": f"Bearer {issue_token(user.login)}"} if api else {}
    if method == "GET":
        return client.get(url, headers=headers)
    if api:
        return client.open(url, method=method, json=WRITE_FORM, headers=headers)
    return client.open(url, method=method, data=WRITE_FORM)


def test_other_organizations_cannot_read_drafts_or_change_listings(app, client, login, world):
    owners, drafts, published, intruders = world
    rules = list(_listing_rules(app))
    assert len(rules) >= 10
    tried = 0
    for intruder in intruders:
        login(intruder)
        for rule in rules:
            api = rule.endpoint.startswith("api.")
            methods = rule.methods & {"GET", "POST", "PATCH"}
            for _kinds, url in _urls(app, rule, {k: v.id for k, v in drafts.items()}):
                for method in methods:
                    response = _send(client, method, url, intruder, api)
                    tried += 1
                    assert response.status_code in (403, 404), (intruder.role, method, url)
                    assert "机密草稿" not in response.get_data(as_text=True)
            for _kinds, url in _urls(app, rule, {k: v.id for k, v in published.items()}):
                for method in methods - {"GET"}:
                    response = _send(client, method, url, intruder, api)
                    tried += 1
                    assert response.status_code in (403, 404), (intruder.role, method, url)
    assert tried > 100
    db.session.expire_all()
    for row in published.values():
        assert row.status == "published" and "原标题" in row.title
    for row in drafts.values():
        assert row.status == "draft" and row.title.startswith("机密草稿")


def test_lists_search_and_exports_never_show_other_orgs_drafts(client, login, world):
    owners, drafts, published, intruders = world
    for intruder in intruders:
        login(intruder)
        token = {"Authorization": f"Bearer {issue_token(intruder.login)}"}
        for kinds in ("achievements", "needs"):
            for query in (
                "",
                "?status=draft",
                "?scope=mine",
                "?q=机密",
                "?status=draft&scope=mine",
            ):
                for url, headers in (
                    (f"/{kinds}/{query}", {}),
                    (f"/api/v1/{kinds}{query}", token),
                    (f"/{kinds}/export.csv{query}", {}),
                ):
                    body = client.get(url, headers=headers).get_data(as_text=True)
                    assert "机密草稿" not in body, url


def test_owners_still_reach_their_own_drafts(client, login, world):
    owners, drafts, published, intruders = world
    for kinds, owner in owners.items():
        login(owner)
        assert drafts[kinds].title in client.get(f"/{kinds}/{drafts[kinds].id}").get_data(
            as_text=True
        )
        assert drafts[kinds].title in client.get(f"/{kinds}/?scope=mine").get_data(as_text=True)


def test_import_checks_of_one_user_cannot_be_confirmed_by_another(client, login, make_user):
    first = make_user("institute")
    login(first)
    from io import BytesIO

    csv = (
        "标题,技术领域,详细介绍\n"
        "协作机器人关节,机器人与智能制造,一种协作机器人关节模组的设计与制造方法\n"
    )
    response = client.post("/achievements/import", data={"file": (BytesIO(csv.encode()), "a.csv")})
    assert response.status_code == 200
    import re

    token = re.search(
        r"/achievements/import/([0-9a-f]{32})", response.get_data(as_text=True)
    ).group(1)
    login(make_user("institute"))
    assert client.post(f"/achievements/import/{token}", data={"mode": "all"}).status_code == 404
    assert db.session.query(Achievement).count() == 0 and db.session.query(Need).count() == 0


def test_suggestion_exports_follow_the_same_rules(client, login, world, make_need):
    from matchmaker.models import Suggestion

    owners, drafts, published, intruders = world
    need = make_need(title="对方需求")
    db.session.add(
        Suggestion(
            need_id=need.id, achievement_id=published["achievements"].id, score=0.3, terms=[]
        )
    )
    db.session.commit()
    stranger = intruders[0]
    login(stranger)
    draft_id, public_id = drafts["achievements"].id, published["achievements"].id
    url = "/suggestions/export.csv?kind=achievement&listing_id={}"
    assert client.get(url.format(draft_id)).status_code == 404
    assert client.get(url.format(public_id)).status_code == 403
    assert client.get("/suggestions/export.csv").status_code == 403
    login(owners["achievements"])
    body = client.get(url.format(public_id)).get_data(as_text=True)
    assert "对方需求" in body
    # A broker exports the pairs in their fields (issue 17: never every suggestion).
    from matchmaker.services.taxonomy import field_by_name

    intruders[2].fields = [field_by_name("机器人与智能制造")]
    db.session.commit()
    login(intruders[2])
    assert "对方需求" in client.get("/suggestions/export.csv").get_data(as_text=True)
