"""Every role's home page and the navigation in a real browser, on a laptop and on a phone:
every visible link and button is readable (contrast >= 4.5:1 against the background it is
drawn on, computed from the rendered styles) and nothing sticks out of the viewport."""

import pytest

from matchmaker.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.slow

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ROLES = (None, "enterprise", "institute", "broker", "staff")
# Where each role's home page sends it to act (a link outside the navigation).
ACTS = {
    None: "/achievements/",
    "enterprise": "/needs/new",
    "institute": "/achievements/new",
    "broker": "/workbench",
    "staff": "/review/",
}

# Contrast of each visible link/button/menu against its effective background, per WCAG 2.x.
CONTRAST_JS = r"""
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const ch = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
    return [ch(0), ch(1), ch(2), a];
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let color = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.opacity !== "0";
  };
  const bad = [];
  let checked = 0;
  for (const el of document.querySelectorAll("a, button, summary, label.nav-button, .button")) {
    if (!visible(el) || !el.textContent.trim()) continue;
    checked++;
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const text = el.textContent.trim().slice(0, 20);
    if (ratio < 4.5) bad.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return {checked, bad};
}
"""

# Elements whose box leaves the viewport sideways (unless a scrolling container clips them).
OVERFLOW_JS = r"""
() => {
  const width = window.innerWidth;
  const clipped = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      const s = getComputedStyle(node);
      if (["auto", "scroll", "hidden", "clip"].includes(s.overflowX)) return true;
    }
    return false;
  };
  const bad = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if ((r.right > width + 1 || r.left < -1) && !clipped(el)) {
      bad.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    bad: bad.slice(0, 10),
  };
}
"""


@pytest.fixture
def demo(demo_world):
    return demo_world


def _page(browser, base, viewport, login=None):
    page = browser.new_context(base_url=base, locale="zh-CN", viewport=viewport).new_page()
    page.set_default_timeout(15000)
    if login:
        page.goto(f"{base}/auth/login")
        page.fill("#login-form input[name=login]", login)
        page.fill("#login-form input[name=password]", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state()
    return page


def _check(page, where: str) -> None:
    contrast = page.evaluate(CONTRAST_JS)
    assert contrast["checked"] > 0, where
    assert contrast["bad"] == [], (where, contrast["bad"])
    overflow = page.evaluate(OVERFLOW_JS)
    assert overflow["scrollWidth"] <= overflow["innerWidth"], (where, overflow)
    assert overflow["bad"] == [], (where, overflow["bad"])


def _acts_outside_nav(page, role) -> None:
    target = ACTS[role]
    links = page.locator(f"main a[href='{target}']")
    assert links.count() >= 1 and links.first.is_visible(), (role, target)


def test_home_pages_and_navigation_on_a_laptop(demo, live_server, browser):
    for role in ROLES:
        page = _page(browser, live_server, LAPTOP, role)
        page.goto(f"{live_server}/")
        where = f"{role or 'anonymous'} @1366"
        _acts_outside_nav(page, role)
        # The navigation fits one row: every top-level item sits on the same line.
        tops = page.eval_on_selector_all(
            "#main-nav > a, #main-nav > details > summary",
            "els => els.map(e => Math.round(e.getBoundingClientRect().top))",
        )
        assert tops and max(tops) - min(tops) <= 4, (where, tops)
        assert page.eval_on_selector("header.top", "e => e.offsetHeight") <= 64, where
        assert not page.is_visible("label.nav-button"), where
        _check(page, where)
        for menu in page.locator("#main-nav details.menu").all():
            menu.locator("summary").click()
            assert menu.locator(".menu-items a").first.is_visible(), where
            _check(page, f"{where} menu {menu.get_attribute('id')}")
        page.context.close()


def test_home_pages_and_navigation_on_a_phone(demo, live_server, browser):
    for role in ROLES:
        page = _page(browser, live_server, PHONE, role)
        page.goto(f"{live_server}/")
        where = f"{role or 'anonymous'} @390"
        _acts_outside_nav(page, role)
        # Folded behind the menu button: the header is one short row until it is opened.
        assert page.is_visible("label.nav-button") and not page.is_visible("#main-nav"), where
        assert page.eval_on_selector("header.top", "e => e.offsetHeight") <= 60, where
        _check(page, where)
        page.click("label.nav-button")
        assert page.is_visible("#main-nav"), where
        for menu in page.locator("#main-nav details.menu").all():
            menu.locator("summary").click()
            assert menu.locator(".menu-items a").first.is_visible(), where
        _check(page, f"{where} menu open")
        page.context.close()


PHONE_PAGES = {
    None: ["/achievements/", "/needs/?q=检测", "/achievements/1"],
    "enterprise": ["/notifications", "/my/pairs", "/needs/?scope=mine", "/needs/new"],
    "broker": ["/workbench", "/dashboard/", "/workbench/figures", "/fairs/"],
    "staff": ["/review/", "/admin/fields/", "/runs/", "/admin/users", "/fairs/1"],
}


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1366"])
def test_working_pages_fit_and_read_well(demo, live_server, browser, viewport):
    for role, paths in PHONE_PAGES.items():
        page = _page(browser, live_server, viewport, role)
        for path in paths:
            response = page.goto(f"{live_server}{path}")
            assert response.status == 200, path
            _check(page, f"{role} {path} @{viewport['width']}")
        page.context.close()


def test_notification_view_button_is_visible(demo, live_server, browser):
    page = _page(browser, live_server, LAPTOP, "enterprise")
    page.goto(f"{live_server}/notifications")
    button = page.locator("ul.notifications button.link").first
    assert button.is_visible()
    colors = button.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b.closest('li')).backgroundColor]"
    )
    assert colors[0] != "rgb(255, 255, 255)", colors


def test_workbench_filters_do_not_overlap_on_a_laptop(demo, live_server, browser):
    page = _page(browser, live_server, LAPTOP, "broker")
    page.goto(f"{live_server}/workbench")
    boxes = page.eval_on_selector_all(
        "form.filters .row:first-child > label",
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return [r.left, r.right, r.top, r.bottom]; })",
    )
    assert len(boxes) >= 4
    for (_, r1, t1, _), (l2, _, t2, _) in zip(boxes, boxes[1:], strict=False):
        same_row = abs(t1 - t2) < 5
        assert not same_row or r1 <= l2 + 1, boxes
    select = page.eval_on_selector(
        "form.filters select[name=field]", "e => e.getBoundingClientRect().right"
    )
    label = page.eval_on_selector(
        "form.filters select[name=field]", "e => e.closest('label').getBoundingClientRect().right"
    )
    assert select <= label + 1
