"""The production web server: gunicorn with gunicorn.conf.py, /healthz, SECRET_KEY, headers."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from config import TestConfig
from matchmaker.accounts.models import ROLES
from matchmaker.app import create_app
from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.pairs.models import Suggestion
from tests.browser import login_page
from tests.conftest import PASSWORD
from tests.test_roles import PUBLIC_ENDPOINTS, build_world, concrete_urls
from tests.test_roles import request_as as roles_request_as

ROOT = Path(__file__).resolve().parents[1]
SECURITY_HEADERS = {
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_security_headers(response, what: str) -> None:
    headers = response.headers
    missing = SECURITY_HEADERS - set(headers.keys())
    assert not missing, f"{what}: missing {sorted(missing)}"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, f"{what}: {csp}"
    assert "frame-ancestors 'none'" in csp, f"{what}: {csp}"
    assert headers["X-Frame-Options"] == "DENY", what
    assert headers["X-Content-Type-Options"] == "nosniff", what


# --- headers on every page --------------------------------------------------------------------


def test_every_html_page_of_every_role_carries_the_security_headers(
    app, make_org, make_user, make_achievement, make_need
):
    world = build_world(make_org, make_user, make_achievement, make_need)
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            if not rule.arguments:
                pages.append((None, rule.rule))
            continue
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if roles is None:
            continue
        for role in sorted(set(ROLES) if "*" in roles else set(roles)):
            pages += [(role, url) for url, _ in concrete_urls(rule, world, role)]
    html = 0
    for role, url in pages:
        response = roles_request_as(app, world, role, "GET", url)
        if response.mimetype == "text/html":
            html += 1
            assert_security_headers(response, f"GET {url} as {role or 'anonymous'}")
            assert "Strict-Transport-Security" not in response.headers  # plain http here
            body = response.get_data(as_text=True)
            # What the policy would block: inline script, event handlers, style attributes.
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), f"inline script: {url}"
            assert not re.search(r"\son[a-z]+\s*=", body), f"inline handler: {url}"
            assert not re.search(r"<[^>]+\sstyle\s*=", body), f"style attribute: {url}"
    assert html > 30, f"only {html} HTML pages crawled"


def test_errors_and_json_carry_the_headers_too(client):
    assert_security_headers(client.get("/no-such-page"), "404 page")
    assert_security_headers(client.get("/api/v1/me"), "API 401")


def test_hsts_is_sent_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://match.example.cn")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_answers_with_the_database_state(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    config = TestConfig()
    config.INSTANCE_DIR = tmp_path
    config.SQLALCHEMY_DATABASE_URI = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    app = create_app(config)
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error" and response.json["database"] == "unreachable"
    assert response.json["error"]
    assert time.monotonic() - started < 10


# --- SECRET_KEY ---------------------------------------------------------------------------------


def production_env(instance: Path, **extra: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(instance),
        "LANG": "C.UTF-8",
        "MATCHMAKER_INSTANCE": str(instance),
        "MATCHMAKER_ENV": "production",
    }
    env.update(extra)
    return env


def gunicorn_command(port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
        "wsgi:app",
    ]


def test_gunicorn_refuses_to_start_in_production_without_secret_key(tmp_path):
    result = subprocess.run(
        gunicorn_command(free_port()),
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert len(output.splitlines()) == 1, output
    assert "SECRET_KEY is not set" in output


def test_cli_commands_work_in_production_without_secret_key(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=production_env(tmp_path, DATABASE_URL=db_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "cli.db").exists()


# --- two gunicorn processes, one SECRET_KEY -------------------------------------------------------


class Gunicorn:
    """One gunicorn master with its own instance directory, as on its own machine."""

    def __init__(self, instance: Path, env: dict):
        instance.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(instance / "gunicorn.log", "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            gunicorn_command(self.port, "--workers", "1", "--threads", "2"),
            cwd=ROOT,
            env=production_env(instance, **env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if requests.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or its worker still boots
                time.sleep(0.3)
        self.log.seek(0)
        pytest.fail(f"gunicorn on {self.base} did not answer:\n{self.log.read()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Browser:
    """Cookies carried by hand: the production cookies are Secure, and this is plain http."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(
            method, url, headers={"Cookie": cookie}, allow_redirects=False, timeout=30, **kwargs
        )
        for item in response.cookies:
            self.cookies[item.name] = item.value
        return response


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.slow
def test_a_session_and_its_csrf_token_work_on_another_web_process(tmp_path, app, make_user):
    user = make_user("broker", display_name="跨机经纪人")
    env = {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": "one-key-for-every-web-process",
        "WEB_CONCURRENCY": "1",
    }
    one = Gunicorn(tmp_path / "host1", env)
    two = Gunicorn(tmp_path / "host2", env)
    try:
        one.wait()
        two.wait()
        browser = Browser()
        form = browser.request("GET", f"{one.base}/auth/login").text
        signed_in = browser.request(
            "POST",
            f"{one.base}/auth/login",
            data={"csrf_token": csrf_token(form), "login": user.login, "password": PASSWORD},
        )
        assert signed_in.status_code == 302, signed_in.text[:2000]
        assert "session" in browser.cookies

        page = browser.request("GET", f"{two.base}/auth/password")
        assert page.status_code == 200
        assert "跨机经纪人" in page.text and "退出" in page.text
        assert page.headers["Server"] == "gunicorn"  # no version, no Werkzeug/Python
        assert_security_headers(page, "a page served by gunicorn")

        # CSRF is on in production: no token, no logout; the token from host 1 works on host 2.
        token = csrf_token(browser.request("GET", f"{one.base}/auth/password").text)
        assert browser.request("POST", f"{two.base}/auth/logout").status_code == 400
        logout = browser.request("POST", f"{two.base}/auth/logout", data={"csrf_token": token})
        assert logout.status_code == 302
        after = browser.request("GET", f"{one.base}/auth/password")
        assert after.status_code == 302 and "/auth/login" in after.headers["Location"]
        assert not (tmp_path / "host1" / "secret_key").exists()
        assert not (tmp_path / "host2" / "secret_key").exists()
    finally:
        one.stop()
        two.stop()


# --- the browser runs the pages under the policy ------------------------------------------------


@pytest.mark.slow
def test_pages_work_under_the_content_security_policy_in_a_real_browser(
    live_server, browser, make_user, make_need, make_achievement
):
    broker = make_user("broker", display_name="王经纪")
    broker.fields = [field_by_name("机器人与智能制造")]
    pairs = [
        Suggestion(
            need=make_need(title=f"焊接机器人视觉引导{i}"),
            achievement=make_achievement(title=f"机器人焊缝跟踪系统{i}"),
            score=0.8,
            terms=[["焊缝", 0.7], ["机器人", 0.3]],
        )
        for i in range(2)
    ]
    db.session.add_all(pairs)
    db.session.commit()
    staff = make_user("staff")

    page = login_page(browser, live_server, broker.login)
    problems = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/workbench")
    page.check("input[data-check-all]")
    assert page.locator("input[name=ids]:checked").count() == 2
    page.goto(f"{live_server}/pairs/{pairs[0].id}")
    width = page.eval_on_selector("table.terms .bar span", "el => el.getBoundingClientRect().width")
    assert width > 0, "the bar's width comes from static/app.js"
    staff_page = login_page(browser, live_server, staff.login)
    staff_page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    staff_page.goto(f"{live_server}/runs/")
    staff_page.goto(f"{live_server}/dashboard/")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems
