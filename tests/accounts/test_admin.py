"""Staff administration of users: the list, brokers' fields, deactivation."""

from sqlalchemy import select

from matchmaker.accounts.models import Field
from matchmaker.core.extensions import db
from tests.conftest import PASSWORD


def field_id(name: str) -> int:
    return db.session.scalar(select(Field.id).where(Field.name == name))


def test_staff_see_every_user_with_role_and_organization(client, make_user, make_org, login):
    org = make_org(name="辽沈理工大学", kind="university")
    make_user("institute", org=org, login="sunxd", display_name="孙晓东")
    make_user("broker", login="lijj", display_name="李经纪")
    login(make_user("staff"))
    page = client.get("/admin/users").get_data(as_text=True)
    assert "sunxd" in page and "孙晓东" in page and "辽沈理工大学" in page and "科研机构" in page
    assert "lijj" in page and "技术经纪人" in page


def test_user_list_filters_by_role_and_text(client, make_user, login):
    make_user("broker", login="broker-a")
    make_user("enterprise", login="ent-b")
    login(make_user("staff"))
    by_role = client.get("/admin/users?role=broker").get_data(as_text=True)
    assert "broker-a" in by_role and "ent-b" not in by_role
    by_text = client.get("/admin/users?q=ent-").get_data(as_text=True)
    assert "ent-b" in by_text and "broker-a" not in by_text


def test_staff_set_the_fields_a_broker_covers(client, make_user, login):
    broker = make_user("broker")
    login(make_user("staff"))
    response = client.post(
        f"/admin/users/{broker.id}/fields",
        data={"field_ids": [field_id("IC装备"), field_id("新材料")]},
    )
    assert response.status_code == 302
    db.session.refresh(broker)
    assert sorted(f.name for f in broker.fields) == ["IC装备", "新材料"]
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'value="{field_id("IC装备")}" checked' in page


def test_fields_are_only_for_brokers(client, make_user, login):
    enterprise = make_user("enterprise")
    login(make_user("staff"))
    response = client.post(
        f"/admin/users/{enterprise.id}/fields", data={"field_ids": [field_id("新材料")]}
    )
    assert response.status_code == 404
    assert "技术经纪人不存在" in response.get_data(as_text=True)


def test_unknown_field_is_refused(client, make_user, login):
    broker = make_user("broker")
    login(make_user("staff"))
    response = client.post(f"/admin/users/{broker.id}/fields", data={"field_ids": ["99999"]})
    assert response.status_code == 400 and "所选领域不存在" in response.get_data(as_text=True)


def test_deactivated_user_cannot_sign_in_or_use_a_token_until_reactivated(
    app, client, make_user, login
):
    from matchmaker.accounts.users import issue_token

    user = make_user("enterprise")
    token = issue_token(user.login)
    login(make_user("staff"))
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert "已停用" in client.get("/admin/users").get_data(as_text=True)
    other = app.test_client()
    refused = other.post("/auth/login", data={"login": user.login, "password": PASSWORD})
    assert refused.status_code == 400
    assert other.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    assert (
        other.post("/auth/login", data={"login": user.login, "password": PASSWORD}).status_code
        == 302
    )


def test_deactivation_ends_an_open_session(app, client, make_user, login):
    user = make_user("broker")
    login(user)
    assert client.get("/api/v1/me").status_code == 200
    staff_client = app.test_client()
    staff = make_user("staff")
    staff_client.post("/auth/login", data={"login": staff.login, "password": PASSWORD})
    staff_client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert client.get("/api/v1/me").status_code == 401


def test_staff_cannot_deactivate_themselves(client, make_user, login):
    staff = make_user("staff")
    login(staff)
    response = client.post(f"/admin/users/{staff.id}/active", data={"active": "0"})
    assert response.status_code == 400 and "不能停用自己的账号" in response.get_data(as_text=True)
    db.session.refresh(staff)
    assert staff.is_active


def test_nav_shows_user_admin_only_to_staff(client, make_user, login):
    login(make_user("broker"))
    assert "用户管理" not in client.get("/").get_data(as_text=True)
    client.post("/auth/logout")
    login(make_user("staff"))
    assert "用户管理" in client.get("/").get_data(as_text=True)
