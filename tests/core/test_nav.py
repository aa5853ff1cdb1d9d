"""The header: each viewer sees their own role's menus, with a live unread count beside them."""

from matchmaker.core.extensions import db
from matchmaker.notifications.notify import notify
from tests.conftest import PASSWORD


def _signed_in(app, user):
    client = app.test_client()
    response = client.post("/auth/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_menus_follow_each_viewers_role_and_the_bell_counts_live(app, make_user):
    broker = make_user(role="broker")
    institute = make_user(role="institute")
    staff = make_user(role="staff")
    as_broker, as_institute, as_staff = (_signed_in(app, u) for u in (broker, institute, staff))
    anonymous = app.test_client()

    for _ in range(2):  # the second round comes from the menus kept by the process
        broker_page = as_broker.get("/achievements/").get_data(as_text=True)
        institute_page = as_institute.get("/achievements/").get_data(as_text=True)
        staff_page = as_staff.get("/achievements/").get_data(as_text=True)
        public_page = anonymous.get("/achievements/").get_data(as_text=True)
        assert "经纪人工作台" in broker_page and "用户管理" not in broker_page
        assert "发布成果" in institute_page and "经纪人工作台" not in institute_page
        assert "用户管理" in staff_page
        assert "对接会" not in public_page and "通知" not in public_page
        assert "data-unread" not in institute_page

    notify([institute], "test", "有新的对接推荐", "/my/pairs")
    db.session.commit()
    assert 'data-unread="1"' in as_institute.get("/achievements/").get_data(as_text=True)
    assert "data-unread" not in as_broker.get("/achievements/").get_data(as_text=True)
