"""Issue 17 (findings 1, 2, 3, 5, 9) and issue 13's lockout: who may join, who is a broker,
sessions that end, sign-in hardening and failed-login throttling."""

import csv
import io
import time
import uuid
from contextlib import contextmanager

import argon2
import pytest
from sqlalchemy import select

from config import TestConfig
from matchmaker.accounts import users as accounts
from matchmaker.accounts.models import User
from matchmaker.app import create_app
from matchmaker.core.exceptions import Conflict
from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications.models import Notification
from matchmaker.pairs.models import Suggestion
from tests.conftest import PASSWORD


def register(client, **overrides):
    form = {
        "role": "enterprise",
        "login": "joiner",
        "display_name": "新来的",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    form.update(overrides)
    return client.post("/auth/register", data=form)


def sign_in(client, login, password=PASSWORD, addr="127.0.0.1", **extra):
    return client.post(
        "/auth/login",
        data={"login": login, "password": password, **extra},
        environ_base={"REMOTE_ADDR": addr},
    )


# --- 1. Joining an organization needs its administrator's (or staff's) approval -------------


@pytest.fixture
def company(make_user, make_need):
    """An approved company, its administrator (first member) and a draft and a published need."""
    admin = make_user("enterprise", login="hua-admin")
    org = admin.organization
    return {
        "org": org,
        "admin": admin,
        "draft": make_need(organization=org, status="draft", title="华拓草稿需求"),
        "published": make_need(organization=org, title="华拓已发布需求"),
    }


def test_a_new_member_of_an_approved_org_cannot_act_for_it_until_approved(app, client, company):
    response = register(client, organization_id=str(company["org"].id))
    assert response.status_code == 302
    joiner = db.session.scalar(select(User).where(User.login == "joiner"))
    assert joiner.membership == "pending" and not joiner.is_org_admin
    assert sign_in(client, "joiner").status_code == 302
    # Like anonymous: no draft, no withdrawal, no API.
    # Listing pages are public (the catalogue): the pending member gets what a visitor gets.
    draft = client.get(f"/needs/{company['draft'].id}")
    visitor = app.test_client().get(f"/needs/{company['draft'].id}")
    assert draft.status_code == visitor.status_code != 200
    assert (
        "华拓草稿需求"
        not in client.get(f"/needs/{company['draft'].id}", follow_redirects=True).text
    )
    withdraw = client.post(f"/needs/{company['published'].id}/withdraw")
    assert withdraw.status_code == 302 and "/auth/login" in withdraw.headers["Location"]
    db.session.refresh(company["published"])
    assert company["published"].status == "published"
    assert client.get("/api/v1/me").status_code == 401
    token = accounts.issue_token("joiner")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # The public home page still works and the login page says why.
    assert client.get("/").status_code == 200
    assert "正在等待审核" in client.get("/auth/login").text
    # The administrator was told, and approves.
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == company["admin"].id)
    )
    assert "申请加入" in note.message
    admin_client = app.test_client()
    sign_in(admin_client, "hua-admin")
    page = admin_client.get("/auth/members")
    assert page.status_code == 200 and "joiner" in page.text
    assert (
        admin_client.post(f"/auth/members/{joiner.id}/review", data={"decision": "approve"})
    ).status_code == 302
    db.session.refresh(joiner)
    assert joiner.membership == "approved"
    assert "已通过" in db.session.scalar(
        select(Notification.message).where(Notification.user_id == joiner.id)
    )
    # Approval ends the pending session; signed in again the member acts for the company.
    assert client.get("/api/v1/me").status_code == 401
    sign_in(client, "joiner")
    assert client.get("/api/v1/me").json["login"] == "joiner"
    assert client.get(f"/needs/{company['draft'].id}").status_code == 200


def test_only_the_orgs_admin_or_staff_review_its_applicants(
    app, client, company, make_user, make_org
):
    register(client, organization_id=str(company["org"].id))
    joiner = db.session.scalar(select(User).where(User.login == "joiner"))
    plain_member = make_user("enterprise", org=company["org"], login="hua-member")
    assert not plain_member.is_org_admin
    other_admin = make_user("enterprise", login="other-admin")
    for login in ("hua-member", "other-admin"):
        other = app.test_client()
        sign_in(other, login)
        refused = other.post(f"/auth/members/{joiner.id}/review", data={"decision": "approve"})
        assert refused.status_code == 403
        assert "joiner" not in other.get("/auth/members").text
    assert other_admin.is_org_admin
    db.session.refresh(joiner)
    assert joiner.membership == "pending"
    staff = app.test_client()
    sign_in(staff, make_user("staff").login)
    assert "joiner" in staff.get("/auth/members").text
    staff.post(f"/auth/members/{joiner.id}/review", data={"decision": "reject"})
    db.session.refresh(joiner)
    assert joiner.membership == "rejected"
    refused = sign_in(client, "joiner")
    assert refused.status_code == 400 and "未通过审核" in refused.text


def test_the_founder_of_a_new_organization_administers_it(client):
    response = register(
        client, login="founder", org_name="沈阳新材料有限公司", org_kind="enterprise"
    )
    assert response.status_code == 302
    founder = db.session.scalar(select(User).where(User.login == "founder"))
    assert founder.membership == "approved" and founder.is_org_admin


# --- 2. Brokers are appointed by staff, and export only pairs in their fields -----------------


def test_nobody_registers_as_a_broker(client, make_org):
    org = make_org(kind="agency")
    page = client.get("/auth/register").text
    assert 'value="broker"' not in page
    response = register(client, role="broker", organization_id=str(org.id))
    assert response.status_code == 400
    assert 'data-field="role"' in response.text and "工作人员任命" in response.text
    assert db.session.scalar(select(User).where(User.login == "joiner")) is None


def test_staff_appoint_a_broker_on_the_users_page(client, make_user, login, make_org):
    person = make_user("institute", org=make_org(kind="university"))
    login(make_user("staff"))
    assert "设置角色" in client.get("/admin/users").text
    response = client.post(f"/admin/users/{person.id}/role", data={"role": "broker"})
    assert response.status_code == 302
    db.session.refresh(person)
    assert person.role == "broker"
    bad = client.post(f"/admin/users/{person.id}/role", data={"role": "enterprise"})
    assert bad.status_code == 400 and "不符" in bad.text


def test_non_staff_cannot_appoint_brokers(client, make_user, login):
    me = make_user("broker")
    login(me)
    other = make_user("institute")
    assert client.post(f"/admin/users/{other.id}/role", data={"role": "broker"}).status_code == 403
    db.session.refresh(other)
    assert other.role == "institute"


def test_a_brokers_suggestion_export_holds_only_pairs_in_their_fields(
    client, make_user, login, make_need, make_achievement
):
    broker = make_user("broker")
    broker.fields = [field_by_name("机器人与智能制造")]
    db.session.commit()
    mine = Suggestion(
        need=make_need(title="焊接机器人需求", fields=["机器人与智能制造"]),
        achievement=make_achievement(title="焊接机器人成果", fields=["机器人与智能制造"]),
        score=0.9,
        terms=[],
    )
    theirs = Suggestion(
        need=make_need(title="疫苗冷链需求", fields=["生物医药"]),
        achievement=make_achievement(title="疫苗冷链成果", fields=["生物医药"]),
        score=0.8,
        terms=[],
    )
    db.session.add_all([mine, theirs])
    db.session.commit()
    login(broker)
    body = client.get("/suggestions/export.csv").get_data().decode("utf-8-sig")
    titles = {row[2] for row in csv.reader(io.StringIO(body))}
    assert "焊接机器人需求" in titles and "疫苗冷链需求" not in titles


# --- 3. Logout, a password change and staff end every session --------------------------------


def cookie_jar_copy(app, client, *names):
    """A second browser holding the same cookies (someone who copied them, or another device)."""
    other = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            other.set_cookie(name, cookie.value)
    return other


def test_logout_ends_old_session_and_remember_cookies(app, client, make_user):
    user = make_user("broker")
    assert sign_in(client, user.login, remember="1").status_code == 302
    stolen_session = cookie_jar_copy(app, client, "session")
    stolen_remember = cookie_jar_copy(app, client, "remember_token")
    assert stolen_session.get("/api/v1/me").status_code == 200
    assert stolen_remember.get("/api/v1/me").status_code == 200
    client.post("/auth/logout")
    assert stolen_session.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me").status_code == 401
    fresh_remember = cookie_jar_copy(app, stolen_remember, "remember_token")
    assert fresh_remember.get("/api/v1/me").status_code == 401


def test_a_password_change_ends_every_other_session(app, client, make_user):
    user = make_user("broker")
    other_device = app.test_client()
    sign_in(other_device, user.login, remember="1")
    remember_only = cookie_jar_copy(app, other_device, "remember_token")
    sign_in(client, user.login)
    response = client.post(
        "/auth/password",
        data={
            "old_password": PASSWORD,
            "new_password": "n3w-secret-phrase",
            "new_password2": "n3w-secret-phrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # this session goes on
    assert other_device.get("/api/v1/me").status_code == 401
    assert remember_only.get("/api/v1/me").status_code == 401


def test_staff_end_a_users_sessions(app, client, make_user, login):
    user = make_user("enterprise")
    victim = app.test_client()
    sign_in(victim, user.login)
    assert victim.get("/api/v1/me").status_code == 200
    login(make_user("staff"))
    assert "强制下线" in client.get("/admin/users").text
    assert client.post(f"/admin/users/{user.id}/sessions").status_code == 302
    assert victim.get("/api/v1/me").status_code == 401
    assert sign_in(victim, user.login).status_code == 302


def test_a_session_cookie_without_a_version_is_refused(app, make_user):
    user = make_user("broker")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert client.get("/api/v1/me").status_code == 401


# --- 5. Logins normalised, unknown logins cost a hash, password rules, ProxyFix --------------


def test_logins_are_normalised_everywhere(app, client, make_user):
    make_user("broker", login="pe_weak")
    with pytest.raises(Conflict):
        accounts.create_user("ＰＥ＿weak ", "a-distinct-pass-9", "broker")
    db.session.rollback()
    assert sign_in(client, "  PE_Weak ").status_code == 302
    # A trailing space is the same account for throttling too.
    other = app.test_client()
    for _ in range(5):
        sign_in(other, "pe_weak", "wrong-pass", addr="10.1.1.1")
    assert sign_in(other, "pe_weak ", addr="10.1.1.1").status_code == 429
    assert sign_in(other, "ＰＥ_weak", addr="10.1.1.1").status_code == 429


def test_an_unknown_login_costs_a_password_hash(client, make_user, monkeypatch):
    make_user("broker", login="known-user")
    calls = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(self, hash_, password):
        calls.append(password)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    unknown = sign_in(client, "no-such-user", "wrong-pass")
    known = sign_in(client, "known-user", "wrong-pass")
    assert unknown.status_code == known.status_code == 400
    assert unknown.text.count("登录名或密码不正确") == known.text.count("登录名或密码不正确") == 1
    assert calls == ["wrong-pass", "wrong-pass"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "过于常见"),
        ("        ", "空格"),
        ("aaaaaaaa", "重复字符或连续序列"),
        ("abcdefghij", "重复字符或连续序列"),
        ("joiner2026", "登录名"),
        ("JOINER!!", "登录名"),
        ("Password123", "过于常见"),
        ("short", "至少需要8个字符"),
    ],
)
def test_weak_passwords_are_refused_at_registration(client, make_org, password, message):
    org = make_org(kind="enterprise")
    response = register(client, organization_id=str(org.id), password=password, password2=password)
    assert response.status_code == 400
    assert 'data-field="password"' in response.text and message in response.text
    assert db.session.scalar(select(User).where(User.login == "joiner")) is None


def test_weak_new_passwords_are_refused_on_change(client, make_user, login):
    user = make_user("broker")
    login(user)
    response = client.post(
        "/auth/password",
        data={
            "old_password": PASSWORD,
            "new_password": "qwertyuiop",
            "new_password2": "qwertyuiop",
        },
    )
    assert response.status_code == 400 and "过于常见" in response.text


@contextmanager
def second_app(app, **settings):
    """Another web process on the same database (and, if set, the same Redis), in its context."""
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
    config.INSTANCE_DIR = app.config["INSTANCE_DIR"]
    for name, value in settings.items():
        setattr(config, name, value)
    other = create_app(config)
    try:
        with other.app_context():
            try:
                yield other
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        from matchmaker.core.extensions import limiter

        limiter.init_app(app)  # the extension is shared: give it back to the test's app


def test_behind_a_proxy_the_forwarded_client_address_is_used(app, make_user):
    login = make_user("broker").login  # read here: the other app has its own sessions
    with second_app(app, PROXY_FIX_X_FOR=1) as proxied:
        client = proxied.test_client()

        def attempt(password, client_addr):
            return client.post(
                "/auth/login",
                data={"login": login, "password": password},
                headers={"X-Forwarded-For": client_addr},
                environ_base={"REMOTE_ADDR": "10.9.9.9"},  # the proxy
            )

        for _ in range(5):
            assert attempt("wrong-pass", "203.0.113.5").status_code == 400
        assert attempt(PASSWORD, "203.0.113.5").status_code == 429
        assert attempt(PASSWORD, "198.51.100.7").status_code == 302


def test_without_the_proxy_setting_a_forged_forwarded_address_is_ignored(client, make_user):
    user = make_user("broker")
    for n in range(5):
        client.post(
            "/auth/login",
            data={"login": user.login, "password": "wrong-pass"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    assert sign_in(client, user.login).status_code == 429


# --- 9. organization_id=abc at registration -----------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1", "1.5"])
def test_a_malformed_organization_id_is_a_field_error(client, value):
    response = register(client, organization_id=value)
    assert response.status_code == 400
    assert 'data-field="organization_id"' in response.text
    assert "请选择已审核通过的单位" in response.text


# --- Issue 13: nobody can lock an account; an address that keeps failing is slowed ------------


def test_the_right_password_from_a_clean_address_works_after_another_failed_50_times(
    client, make_user
):
    user = make_user("staff")
    statuses = [
        sign_in(client, user.login, "wrong-pass", addr="10.6.6.6").status_code for _ in range(50)
    ]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}
    assert sign_in(client, user.login, addr="10.7.7.7").status_code == 302


def test_an_address_failing_across_logins_is_slowed_but_others_are_not(app, client, make_user):
    user = make_user("enterprise")
    statuses = []
    for n in range(50):
        statuses.append(sign_in(client, f"guess{n}", "wrong-pass", addr="10.6.6.6").status_code)
    assert statuses[0] == 400 and statuses[-1] == 429
    slowed = sign_in(client, user.login, addr="10.6.6.6")
    assert slowed.status_code == 429 and "该网络地址登录失败次数过多" in slowed.text
    assert int(slowed.headers["Retry-After"]) > 0
    assert sign_in(app.test_client(), user.login, addr="10.8.8.8").status_code == 302


def test_an_address_limit_is_a_rate_not_a_lock(app, client, make_user):
    app.config["LOGIN_LIMITS_PER_ADDRESS"] = "5 per 2 seconds"
    user = make_user("enterprise")
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong-pass", addr="10.6.6.6")
    assert sign_in(client, user.login, addr="10.6.6.6").status_code == 429
    time.sleep(2.2)
    assert sign_in(client, user.login, addr="10.6.6.6").status_code == 302


def test_the_wait_per_login_and_address_grows(app, client, make_user):
    app.config["LOGIN_LIMITS_PER_ACCOUNT"] = "2 per 2 seconds; 4 per 1 hour"
    user = make_user("enterprise")
    for _ in range(2):
        assert sign_in(client, user.login, "wrong-pass").status_code == 400
    first = sign_in(client, user.login)
    assert first.status_code == 429 and "该账号登录失败次数过多" in first.text
    time.sleep(2.2)
    for _ in range(2):
        assert sign_in(client, user.login, "wrong-pass").status_code == 400
    second = sign_in(client, user.login)
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > int(first.headers["Retry-After"])
    # Successes never count: a user who types the password right is never throttled.
    other = make_user("enterprise")
    for _ in range(6):
        assert sign_in(app.test_client(), other.login).status_code == 302


def test_login_limits_are_kept_in_redis_across_web_processes(app, make_user):
    # The key prefix is set once per process (the extension keeps its first one): a new login.
    login = make_user("broker", login=f"redis-{uuid.uuid4().hex[:12]}").login
    redis_url = TestConfig.REDIS_URL
    prefix = f"test-{uuid.uuid4().hex}"
    with second_app(app, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix) as one:
        for _ in range(5):
            assert sign_in(one.test_client(), login, "wrong-pass").status_code == 400
    # A second process starts with a fresh limiter, and still sees the first one's failures.
    with second_app(app, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix) as two:
        assert sign_in(two.test_client(), login).status_code == 429
        assert sign_in(two.test_client(), login, addr="10.3.3.3").status_code == 302
