"""Registering, logging in and out, passwords, throttling, tokens and cookies."""

from sqlalchemy import select

from matchmaker.accounts.models import ApiToken, Organization, User
from matchmaker.core.extensions import db
from tests.conftest import PASSWORD


def register(client, **overrides):
    form = {
        "role": "enterprise",
        "login": "zhangsan",
        "display_name": "张三",
        "password": PASSWORD,
        "password2": PASSWORD,
        "org_name": "沈阳精密阀门有限公司",
        "org_kind": "enterprise",
        "credit_code": "91350100M000100Y43",
    }
    form.update(overrides)
    return client.post("/auth/register", data=form)


def test_register_creates_user_and_pending_organization(client):
    response = register(client)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.login == "zhangsan"))
    assert user.organization.name == "沈阳精密阀门有限公司"
    assert user.organization.status == "pending"
    assert user.password_hash.startswith("$argon2id$")


def test_register_rejects_bad_credit_code_next_to_the_field(client):
    response = register(client, credit_code="91350100M000100Y44")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="credit_code"' in page and "校验位不正确" in page
    assert (
        db.session.scalar(select(Organization).where(Organization.name.like("沈阳精密%"))) is None
    )


def test_register_rejects_mismatched_passwords(client):
    response = register(client, password2="something-else")
    assert response.status_code == 400
    assert "两次输入的密码不一致" in response.get_data(as_text=True)


def test_login_logout_round_trip(client, make_user, login):
    user = make_user("broker")
    login(user)
    assert client.get("/api/v1/me").json["login"] == user.login
    client.post("/auth/logout")
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_is_refused_in_chinese(client, make_user):
    user = make_user("broker")
    response = client.post("/auth/login", data={"login": user.login, "password": "wrong-pass"})
    assert response.status_code == 400
    assert "登录名或密码不正确" in response.get_data(as_text=True)


def test_login_is_throttled_after_repeated_failures(client, make_user):
    user = make_user("broker")
    for _ in range(5):
        client.post("/auth/login", data={"login": user.login, "password": "wrong-pass"})
    response = client.post("/auth/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 429
    assert "次数过多" in response.get_data(as_text=True)


def test_next_parameter_only_redirects_inside_the_site(client, make_user):
    user = make_user("broker")
    data = {"login": user.login, "password": PASSWORD}
    outside = client.post("/auth/login?next=https://evil.example/x", data=data)
    assert outside.headers["Location"] == "/"
    client.post("/auth/logout")
    protocol_relative = client.post("/auth/login?next=//evil.example", data=data)
    assert protocol_relative.headers["Location"] == "/"
    client.post("/auth/logout")
    inside = client.post("/auth/login?next=/auth/password", data=data)
    assert inside.headers["Location"] == "/auth/password"


def test_change_password_requires_the_old_one(client, make_user, login):
    user = make_user("broker")
    login(user)
    bad = client.post(
        "/auth/password",
        data={
            "old_password": "nope-nope",
            "new_password": "n3w-password",
            "new_password2": "n3w-password",
        },
    )
    assert bad.status_code == 400
    good = client.post(
        "/auth/password",
        data={
            "old_password": PASSWORD,
            "new_password": "n3w-password",
            "new_password2": "n3w-password",
        },
    )
    assert good.status_code == 302
    client.post("/auth/logout")
    assert (
        client.post(
            "/auth/login", data={"login": user.login, "password": "n3w-password"}
        ).status_code
        == 302
    )


def test_staff_approve_a_registered_organization(client, make_user, login):
    register(client)
    org = db.session.scalar(select(Organization).where(Organization.name == "沈阳精密阀门有限公司"))
    login(make_user("staff"))
    response = client.post(f"/auth/organizations/{org.id}/review", data={"decision": "approve"})
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.status == "approved"


def test_non_staff_cannot_approve_organizations(client, make_user, login, make_org):
    org = make_org(status="pending")
    login(make_user("broker"))
    response = client.post(f"/auth/organizations/{org.id}/review", data={"decision": "approve"})
    assert response.status_code == 403
    db.session.refresh(org)
    assert org.status == "pending"


def test_bearer_token_from_cli_authenticates_and_can_be_revoked(app, runner, client):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--login",
            "li",
            "--password",
            PASSWORD,
            "--role",
            "enterprise",
            "--org",
            "沈阳某科技公司",
        ]
    )
    assert result.exit_code == 0, result.output
    token = runner.invoke(args=["users", "token", "li"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json["role"] == "enterprise"
    assert me.json["organization"]["name"] == "沈阳某科技公司"
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    runner.invoke(args=["users", "revoke-tokens", "li"])
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_cli_refuses_unknown_role_and_duplicate_login(runner, make_user):
    user = make_user("broker")
    bad_role = runner.invoke(
        args=["users", "create", "--login", "x", "--password", PASSWORD, "--role", "admin"]
    )
    assert bad_role.exit_code != 0
    dup = runner.invoke(
        args=["users", "create", "--login", user.login, "--password", PASSWORD, "--role", "broker"]
    )
    assert dup.exit_code == 2 and "已被使用" in dup.output


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user("broker")
    response = client.post("/auth/login", data={"login": user.login, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_refuse_posts_without_csrf_token(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("broker")
    response = app.test_client().post(
        "/auth/login", data={"login": user.login, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_ids_beyond_the_integer_column_are_not_found(client, make_user, login):
    login(make_user("staff"))
    response = client.get("/api/v1/pairs/3295197466")
    assert response.status_code == 404
    assert response.json["message"]
