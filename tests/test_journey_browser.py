"""Issue 16, done when: a real browser walks a pair's whole journey — post → publish → suggestion →
recommend → both answer → meeting with time and place → met → intention → contract → fair agenda —
as each role. On every page it passes, every link that role is shown answers 200 for that role
(no link to a 403), and every message on the page matches the pair's state."""

import re
from datetime import date, timedelta
from urllib.parse import urljoin, urlparse

import pytest
from sqlalchemy import select

from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.pairs import transitions as pair_service
from matchmaker.pairs.models import Suggestion
from tests.browser import login_page

pytestmark = pytest.mark.slow

FIELD = "机器人与智能制造"
ENGAGED = {"accepted", "meeting_scheduled", "met", "intention", "contract"}


class Walker:
    """One role's browser; checks the links and messages of every page it lands on."""

    def __init__(self, browser, base, user):
        self.base = base
        self.page = login_page(browser, base, user.login)
        self.checked: dict[str, int] = {}
        self.pages = 0

    def goto(self, path: str):
        self.page.goto(urljoin(self.base, path))
        self.check()

    def after(self):
        """Call after a click that loads a page."""
        self.page.wait_for_load_state()
        self.check()

    def check(self):
        self.pages += 1
        hrefs = self.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            url = urlparse(href)
            if f"{url.scheme}://{url.netloc}" != self.base or not url.path.startswith("/"):
                continue  # external links (an online meeting's URL) and javascript:
            key = url.path + (f"?{url.query}" if url.query else "")
            if key not in self.checked:
                self.checked[key] = self.page.request.get(urljoin(self.base, key)).status
        bad = {k: v for k, v in self.checked.items() if v != 200}
        assert not bad, f"links that do not answer 200 on {self.page.url}: {bad}"
        self.check_messages()

    def check_messages(self):
        match = re.search(r"/pairs/(\d+)$", urlparse(self.page.url).path)
        messages = self.page.locator(".flash").all_inner_texts()
        if not match:
            return
        db.session.expire_all()
        pair = db.session.get(Suggestion, int(match.group(1)))
        shown = self.page.get_attribute("#pair-state", "data-state")
        assert shown == pair.state
        label = pair_service.state_label(pair.state)
        for text in messages:
            for said in re.findall(r"配对当前为「([^」]+)」", text):
                assert said == label, (text, pair.state)
            if re.search("双方均?有意向", text):
                assert pair.state in ENGAGED, (text, pair.state)

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())


def post_listing(walker: Walker, kind: str, title: str, text: str, contact: tuple[str, str]):
    walker.goto(f"/{kind}/new")
    page = walker.page
    page.fill("input[name=title]", title)
    page.check(f"label.check:has-text('{FIELD}') input")
    page.fill("input[name=keywords]", "打磨、力控、机器人")
    page.fill("textarea[name=description]", text)
    if kind == "achievements":
        page.select_option("select[name=maturity]", "中试")
    page.fill("input[name=contact_name]", contact[0])
    page.fill("input[name=contact_phone]", contact[1])
    page.click("button[value=submit]")
    walker.after()
    assert "已提交审核" in walker.flash()


def test_the_whole_journey_as_every_role(live_server, browser, make_user, make_org):
    company = make_org(kind="enterprise", contact_name="陈总工", contact_phone="024-25816630")
    institute = make_org(kind="institute", contact_name="张老师", contact_phone="13900000000")
    company_user = make_user("enterprise", org=company)
    institute_user = make_user("institute", org=institute)
    broker = make_user("broker", display_name="王经纪")
    broker.fields = [field_by_name(FIELD)]
    staff = make_user("staff")
    db.session.commit()

    ent = Walker(browser, live_server, company_user)
    ins = Walker(browser, live_server, institute_user)
    brk = Walker(browser, live_server, broker)
    stf = Walker(browser, live_server, staff)

    # Post.
    post_listing(
        ent,
        "needs",
        "铸件清理打磨机器人",
        "铸件清理打磨需要力控打磨机器人，要求恒力打磨与自动换刀。",
        ("陈工", "024-88886666"),
    )
    post_listing(
        ins,
        "achievements",
        "力控打磨机器人系统",
        "恒力控制打磨机器人系统，适用于铸件清理打磨与自动换刀。",
        ("刘研究员", "13911112222"),
    )
    need = db.session.scalar(select(Need).where(Need.title == "铸件清理打磨机器人"))
    achievement = db.session.scalar(
        select(Achievement).where(Achievement.title == "力控打磨机器人系统")
    )

    # Publish.
    for path in (f"/needs/{need.id}", f"/achievements/{achievement.id}"):
        stf.goto(path)
        stf.page.click(".review-form button[value=publish]")
        stf.after()
    db.session.expire_all()
    assert need.status == "published" and achievement.status == "published"

    # Suggestion: what the matcher writes for the new pair (the engine is tested on its own).
    pair = db.session.scalar(
        select(Suggestion).where(
            Suggestion.need_id == need.id, Suggestion.achievement_id == achievement.id
        )
    )
    if pair is None:
        pair = Suggestion(need=need, achievement=achievement, score=0.62, terms=[["打磨", 1.0]])
        db.session.add(pair)
        db.session.commit()
    pair_id = pair.id
    # Before a recommendation, the posters see the suggestion but no link they cannot open.
    ent.goto(f"/needs/{need.id}")
    assert f"/pairs/{pair_id}" not in ent.page.content()

    # Recommend.
    brk.goto("/workbench")
    brk.page.click(f"tr[data-pair='{pair_id}'] a")
    brk.after()
    brk.page.fill("#recommend-form textarea[name=note]", "双方技术高度契合")
    brk.page.click("#recommend-form button")
    brk.after()
    assert brk.page.get_attribute("#pair-state", "data-state") == "recommended"

    # Both answer: the first answer says only what happened.
    ent.goto("/my/pairs")
    ent.page.click(f"tr[data-pair='{pair_id}'] button.accept")
    ent.after()
    assert "需求方有意向" in ent.flash() and "双方均有意向" not in ent.flash()
    ent.goto(f"/needs/{need.id}")  # now the poster may open the pair from its listing
    assert f"/pairs/{pair_id}" in ent.page.content()
    ins.goto("/my/pairs")
    ins.page.click(f"tr[data-pair='{pair_id}'] button.accept")
    ins.after()
    assert "双方均有意向" in ins.flash()
    ins.goto(f"/pairs/{pair_id}")
    contact = ins.page.inner_text("#pair-state") and ins.page.content()
    assert "陈工" in contact and "024-88886666" in contact and "陈总工" not in contact

    # Meeting: an empty form is refused, then a time and a place.
    brk.goto(f"/pairs/{pair_id}")
    brk.page.evaluate(
        "document.querySelector('#meeting-form input[name=starts_at]').required = false"
    )
    brk.page.click("#meeting-form button")
    brk.page.wait_for_load_state()
    assert "请填写约见时间" in brk.page.content()
    db.session.expire_all()
    assert db.session.get(Suggestion, pair_id).state == "accepted"
    when = f"{date.today() + timedelta(days=3)}T14:30"
    brk.page.fill("#meeting-form input[name=starts_at]", when)
    brk.page.fill("#meeting-form input[name=place]", "沈阳市浑南区科技局三楼会议室")
    brk.page.click("#meeting-form button")
    brk.after()
    assert "已安排约见" in brk.flash()
    for walker in (ent, ins):
        walker.goto(f"/pairs/{pair_id}")
        assert "沈阳市浑南区科技局三楼会议室" in walker.page.inner_text("#meeting")
        ics = walker.page.request.get(f"{live_server}/pairs/{pair_id}/meeting.ics")
        assert ics.status == 200 and "BEGIN:VEVENT" in ics.text()

    # Met, intention, contract.
    brk.goto(f"/pairs/{pair_id}")
    for step in ("met", "intention"):
        brk.page.click(f"#{step}-form button")
        brk.after()
    brk.page.select_option("#contract-form select[name=contract_type]", "技术开发")
    brk.page.fill("#contract-form input[name=amount]", "150")
    brk.page.fill("#contract-form input[name=signed_on]", date.today().isoformat())
    brk.page.click("#contract-form button")
    brk.after()
    assert brk.page.get_attribute("#pair-state", "data-state") == "contract"
    assert "150.00万元" in brk.page.content()
    stf.goto(f"/pairs/{pair_id}")
    assert stf.page.locator("button:text-is('认领')").count() == 0

    # Fair agenda.
    stf.goto("/fairs/new")
    stf.page.fill("input[name=name]", "打磨专场对接会")
    stf.page.fill("input[name=held_on]", (date.today() + timedelta(days=10)).isoformat())
    stf.page.fill("input[name=venue]", "沈阳国际展览中心")
    stf.page.fill("input[name=tables]", "4")
    stf.page.click("#fair-form button[type=submit]")
    stf.after()
    stf.page.click("#register-all")
    stf.after()
    stf.page.click("#preview")
    stf.after()
    assert stf.page.locator("#plan-report").count() == 1
    stf.page.click("#publish")
    stf.after()
    assert "日程已发布" in stf.flash()
    fair_path = urlparse(stf.page.url).path
    for walker in (ent, ins, brk):
        walker.goto("/fairs/")
        walker.goto(fair_path)
        assert "铸件清理打磨机器人" in walker.page.inner_text("#agenda")

    # Every role's own pages once more, each link on them checked.
    for walker, paths in (
        (ent, ["/", "/my/pairs", "/notifications", "/needs/", f"/needs/{need.id}"]),
        (ins, ["/", "/my/pairs", "/notifications", f"/achievements/{achievement.id}"]),
        (brk, ["/", "/workbench", "/notifications", "/workbench/figures", f"/pairs/{pair_id}"]),
        (stf, ["/", "/workbench", "/review/", f"/needs/{need.id}", f"/pairs/{pair_id}"]),
    ):
        for path in paths:
            walker.goto(path)
        assert walker.pages >= 5 and len(walker.checked) >= 5
