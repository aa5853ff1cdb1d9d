"""Every listing page and API endpoint, tried by users of other organizations (IDOR)."""

import pytest
from flask import url_for

from matchmaker.accounts.users import issue_token
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need

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
    from matchmaker.pairs.models import Suggestion

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
    from matchmaker.listings.taxonomy import field_by_name

    intruders[2].fields = [field_by_name("机器人与智能制造")]
    db.session.commit()
    login(intruders[2])
    assert "对方需求" in client.get("/suggestions/export.csv").get_data(as_text=True)


# --- Anonymous visitors: the public catalogue (issue 15) and contacts (issue 17, finding 8) ---

SECRET = {
    "description": "保密工艺细节：退火温度九百二十度",
    "contact_name": "保密联系人甲",
    "contact_phone": "024-99990000",
}


@pytest.fixture
def secret_achievement(make_org, make_achievement):
    org = make_org(kind="institute", name="隐名研究院")
    return make_achievement(
        title="公开的激光熔覆修复成果",
        summary="面向轧辊的激光熔覆修复，寿命提升一倍",
        organization=org,
        confidential=["description", "price", "patents"],
        hide_organization=True,
        price_min=120,
        price_max=360,
        patents=["CN201810123456.7"],
        **SECRET,
    )


def _public_urls(row):
    return [
        "/achievements/?q=激光熔覆",
        f"/achievements/{row.id}",
        "/api/v1/achievements?q=激光熔覆",
        f"/api/v1/achievements/{row.id}",
        "/achievements/export.csv?q=激光熔覆",
        "/achievements/export.xlsx?q=激光熔覆",
    ]


def _text(response) -> str:
    if response.mimetype.endswith("sheet"):
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    import json
    import re

    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return re.sub(r"</?mark>", "", response.get_data(as_text=True))


def test_anonymous_visitor_finds_a_published_achievement_without_its_confidential_parts(
    client, secret_achievement
):
    row = secret_achievement
    for url in _public_urls(row):
        response = client.get(url)
        assert response.status_code == 200, url
        body = _text(response)
        assert "激光熔覆修复" in body, url
        for secret in (*SECRET.values(), "隐名研究院", "CN201810123456", "360"):
            assert secret not in body, (url, secret)
    page = client.get(f"/achievements/{row.id}").get_data(as_text=True)
    assert "登录后查看" in page and "申请对接" in page
    item = client.get(f"/api/v1/achievements/{row.id}").get_json()
    assert "description" not in item and "contact_phone" not in item and "price_max" not in item
    assert set(item["hidden"]) == {"contact", "description", "price", "patents"}


def test_anonymous_visitor_sees_no_drafts_and_cannot_write(client, world):
    owners, drafts, published, intruders = world
    for kinds, row in drafts.items():
        for url in (f"/{kinds}/{row.id}", f"/api/v1/{kinds}/{row.id}"):
            assert client.get(url).status_code == 404, url
        for url in (f"/{kinds}/?status=draft", f"/{kinds}/export.csv?status=draft"):
            assert "机密草稿" not in client.get(url).get_data(as_text=True)
        assert client.get(f"/{kinds}/?scope=mine").status_code == 302
        assert client.post(f"/{kinds}/{row.id}/close").status_code in (302, 401)
        assert client.patch(f"/api/v1/{kinds}/{row.id}", json={"title": "x"}).status_code == 401
    db.session.expire_all()
    assert all(row.status == "draft" for row in drafts.values())


def test_signed_in_strangers_see_no_contacts_but_pair_parties_do_once_both_are_interested(
    client, login, make_user, make_org, make_need, secret_achievement
):
    from matchmaker.pairs.models import Suggestion

    row = secret_achievement
    stranger = make_user("enterprise")
    login(stranger)
    for url in _public_urls(row):
        body = _text(client.get(url))
        assert SECRET["contact_phone"] not in body and SECRET["description"] not in body, url
    company = make_org(kind="enterprise")
    party = make_user("enterprise", org=company)
    need = make_need(title="轧辊修复需求", organization=company)
    pair = Suggestion(need_id=need.id, achievement_id=row.id, score=0.5, terms=[])
    pair.state = "recommended"
    db.session.add(pair)
    db.session.commit()
    login(party)
    body = client.get(f"/achievements/{row.id}").get_data(as_text=True)
    assert SECRET["description"] in body and "隐名研究院" in body
    assert SECRET["contact_phone"] not in body
    pair.state = "accepted"
    pair.need_answer = pair.achievement_answer = "interested"
    db.session.commit()
    assert SECRET["contact_phone"] in client.get(f"/achievements/{row.id}").get_data(as_text=True)
    assert SECRET["contact_phone"] in _text(client.get("/achievements/export.csv?q=激光熔覆"))
    login(make_user("broker"))
    assert SECRET["contact_phone"] in client.get(f"/api/v1/achievements/{row.id}").get_data(
        as_text=True
    )
