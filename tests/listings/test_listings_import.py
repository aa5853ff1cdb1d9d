"""Bulk import and export of listings: check report, duplicates, hostile files, formula cells."""

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings import files
from matchmaker.listings import importing as importer
from matchmaker.listings.models import Achievement, Need
from matchmaker.listings.search import Filters, search
from matchmaker.pairs.models import Suggestion

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "corpus"
HEADER = (
    "外部编号,标题*,技术领域*,关键词,成果简介,详细介绍*,成熟度,转化方式,专利号,"
    "价格下限（万元）,价格上限（万元）,联系人,联系电话,发布单位\n"
)


def csv_bytes(rows, encoding="utf-8", header=HEADER):
    return (header + "".join(rows)).encode(encoding)


GOOD = (
    "A-1,协作机器人关节模组,机器人与智能制造,协作机器人,,"
    "一种协作机器人关节模组的设计与制造,中试,许可,,10,20,,,\n"
)


def test_template_round_trips_through_the_checker(make_user):
    poster = make_user("institute")
    for fmt in ("xlsx", "csv"):
        data = importer.template("achievement", fmt)
        report = importer.check_file("achievement", poster.id, f"t.{fmt}", data)
        assert report.rows == 1 and report.clean, report.problems


def test_report_lists_every_bad_row_and_nothing_is_imported(make_user):
    poster = make_user("institute")
    rows = [
        GOOD,
        "A-2,短,机器人与智能制造,,,描述太短,,,,,,,,\n",
        "A-3,锂电池正极材料,不存在的领域,,,高镍三元正极材料的制备工艺,量产,赠送,123,-5,abc,,,\n",
        "A-1,重复外部编号的成果,新材料,,,高镍三元正极材料的制备工艺,,,,,,,,\n",
    ]
    with pytest.raises(ServiceError) as err:
        importer.import_file("achievement", poster.id, "a.csv", csv_bytes(rows))
    assert "未导入任何数据" in err.value.message
    assert db.session.scalar(select(func.count(Achievement.id))) == 0
    report = importer.check_file("achievement", poster.id, "a.csv", csv_bytes(rows))
    by_row = {}
    for row, column, reason in report.problems:
        by_row.setdefault(row, {})[column] = reason
    assert set(by_row) == {3, 4, 5}
    assert by_row[3]["标题"] == "标题至少4个字"
    assert by_row[3]["详细介绍"] == "详细介绍至少10个字"
    assert set(by_row[4]) == {
        "技术领域",
        "成熟度",
        "转化方式",
        "专利号",
        "价格下限（万元）",
        "价格上限（万元）",
    }
    assert by_row[5]["外部编号"] == "与第2行的外部编号重复"
    _, created = importer.import_file(
        "achievement", poster.id, "a.csv", csv_bytes(rows), status="pending", only_good=True
    )
    assert len(created) == 1
    assert db.session.get(Achievement, created[0]).status == "pending"


def test_duplicates_of_existing_listings_are_flagged(make_user, make_achievement):
    poster = make_user("institute")
    make_achievement(title="协作机器人关节模组", organization=poster.organization)
    make_achievement(title="别的成果", external_ref="A-1")
    report = importer.check_file("achievement", poster.id, "a.csv", csv_bytes([GOOD]))
    reasons = [r for _, _, r in report.problems]
    assert any("同一单位、同一标题" in r for r in reasons)
    assert any("外部编号重复" in r for r in reasons)


def test_gb18030_csv_is_read(make_user):
    poster = make_user("institute")
    report = importer.check_file("achievement", poster.id, "a.csv", csv_bytes([GOOD], "gb18030"))
    assert report.clean and report.good[0][1]["title"] == "协作机器人关节模组"


def test_org_members_cannot_import_for_other_organizations(make_user, make_org):
    poster = make_user("institute")
    other = make_org(kind="institute")
    row = GOOD.rstrip("\n") + other.name + "\n"
    report = importer.check_file("achievement", poster.id, "a.csv", csv_bytes([row]))
    assert report.problems[0][1:] == (
        "发布单位",
        f"只能导入本单位（{poster.organization.name}）的科技成果",
    )


def test_staff_import_names_the_organization_and_can_publish(make_user, make_org):
    staff = make_user("staff")
    org = make_org(kind="university")
    row = GOOD.rstrip("\n") + org.name + "\n"
    _, created = importer.import_file(
        "achievement", staff.id, "a.csv", csv_bytes([row]), status="published"
    )
    row = db.session.get(Achievement, created[0])
    assert row.organization_id == org.id and row.status == "published"
    page = search("achievement", staff, Filters(q="机器人"))
    assert [r.id for r in page.items] == [row.id]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("a.csv", b"", "文件是空的"),
        ("a.pdf", b"%PDF-1.4", "只支持 .xlsx 或 .csv"),
        ("a.xls", b"\xd0\xcf\x11\xe0", "不支持旧版 .xls"),
        ("a.xlsx", b"this is not a zip", "不是有效的 .xlsx"),
        ("a.csv", b"\x00\x01\x02binary", "不是文本格式"),
        ("a.csv", "标题,关键词\n".encode(), "表头缺少必填列"),
        ("a.csv", HEADER.encode(), "没有数据行"),
        ("a.csv", b"\xff\xfe\xfa\xfb\x81\x30" * 3, "无法识别"),
    ],
)
def test_wrong_or_empty_files_get_a_clear_error(make_user, name, data, message):
    poster = make_user("institute")
    with pytest.raises(ServiceError) as err:
        importer.check_file("achievement", poster.id, name, data)
    assert message in err.value.message and err.value.field == "file"


def _zip(entries: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_zip_bombs_and_entry_floods_are_refused_before_opening(make_user):
    poster = make_user("institute")
    bomb = _zip({"xl/workbook.xml": "<x/>", "xl/big.xml": b"0" * (files.MAX_UNZIPPED + 1)})
    assert len(bomb) < files.MAX_BYTES
    with pytest.raises(ServiceError, match="解压后过大"):
        importer.check_file("achievement", poster.id, "a.xlsx", bomb)
    flood = _zip({f"x{i}.xml": "" for i in range(files.MAX_ZIP_ENTRIES + 1)})
    with pytest.raises(ServiceError, match="条目过多"):
        importer.check_file("achievement", poster.id, "a.xlsx", flood)


def test_xml_entity_attacks_are_refused(make_user):
    poster = make_user("institute")
    data = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["标题"])
    book.save(data)
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>'
    )
    source = zipfile.ZipFile(data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = laughs if item.filename == "xl/workbook.xml" else source.read(item.filename)
            target.writestr(item.filename, content)
    with pytest.raises(ServiceError, match="无法读取 .xlsx"):
        importer.check_file("achievement", poster.id, "a.xlsx", out.getvalue())


def test_row_cap_is_enforced_while_reading(make_user):
    rows = [["标题"]] + [[f"行{i}"] for i in range(50)]
    data = "\n".join(",".join(r) for r in rows).encode()
    reader = files.read_rows("a.csv", data, max_rows=10)
    with pytest.raises(ServiceError, match="超过上限 10 行"):
        list(reader)


def test_exports_neutralize_formula_cells(make_user, make_achievement, make_need):
    staff = make_user("staff")
    a = make_achievement(
        title='=HYPERLINK("http://x")',
        contact_name="@SUM(1)",
        contact_phone="+86 123",
        keywords=["-2+3", "\t制表"],
    )
    n = make_need(title="普通需求")
    db.session.add(Suggestion(need_id=n.id, achievement_id=a.id, score=0.5, terms=[["=cmd", 1.0]]))
    db.session.commit()
    rows = search("achievement", staff, Filters()).items
    text = importer.export_listings("achievement", rows, "csv").decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert '\'=HYPERLINK("http://x")' in cells and "'@SUM(1)" in cells and "'+86 123" in cells
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    book = openpyxl.load_workbook(io.BytesIO(importer.export_listings("achievement", rows, "xlsx")))
    values = [c.value for row in book.active.iter_rows() for c in row if isinstance(c.value, str)]
    assert '\'=HYPERLINK("http://x")' in values
    assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in values)
    data = importer.export_suggestions(importer.suggestions_for_export(staff), "csv")
    assert "'=cmd" in data.decode("utf-8-sig")


def test_import_page_reports_bad_rows_and_imports_good_ones(client, login, make_user):
    poster = make_user("institute")
    login(poster)
    rows = [GOOD, "A-2,短,机器人与智能制造,,,描述太短,,,,,,,,\n"]
    response = client.post(
        "/achievements/import",
        data={"file": (io.BytesIO(csv_bytes(rows)), "a.csv"), "status": "draft"},
    )
    html = response.get_data(as_text=True)
    assert "1 行有问题" in html and "标题至少4个字" in html and "只导入无误的 1 行" in html
    token = re.search(r"/achievements/import/([0-9a-f]{32})", html).group(1)
    response = client.post(f"/achievements/import/{token}", data={"mode": "all", "status": "draft"})
    assert db.session.scalar(select(func.count(Achievement.id))) == 0
    response = client.post(
        f"/achievements/import/{token}", data={"mode": "good", "status": "draft"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Achievement.title)) == "协作机器人关节模组"
    assert client.get("/achievements/import/template.xlsx").status_code == 200


def _corpus_rows(limit: int) -> list[list[str]]:
    path = SHARED / "csl_dev_papers.jsonl"
    abstracts = SHARED / "csldcp_abstracts.jsonl"
    if not path.exists() or not abstracts.exists():
        pytest.skip("shared data ../shared/data/corpus not found; skipping the corpus import")
    field_of = {"工学": "高端装备", "理学": "新材料", "医学": "生物医药", "农学": "现代农业"}
    rows = []
    with open(path, encoding="utf-8") as a, open(abstracts, encoding="utf-8") as b:
        for i, line in enumerate(list(a) + list(b)):
            if len(rows) >= limit:
                break
            paper = json.loads(line)
            title = paper.get("title") or paper["abstract"][:30]
            rows.append(
                [
                    f"C{i}",
                    title[:200],
                    field_of.get(paper.get("category"), "新一代信息技术"),
                    "、".join(paper.get("keywords", [])[:10]),
                    paper["abstract"][:10000],
                ]
            )
    return rows


@pytest.mark.slow
def test_two_thousand_corpus_rows_import_from_xlsx(make_user):
    staff = make_user("staff")
    from matchmaker.accounts import users as accounts

    org = accounts.create_organization("语料研究院", "institute", status="approved")
    db.session.commit()
    rows = _corpus_rows(2000)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["外部编号", "标题", "技术领域", "关键词", "详细介绍", "发布单位"])
    for row in rows:
        sheet.append(row + [org.name])
    out = io.BytesIO()
    book.save(out)
    report, created = importer.import_file(
        "achievement", staff.id, "corpus.xlsx", out.getvalue(), status="published", only_good=True
    )
    assert report.rows == 2000
    assert len(created) >= 1950, report.problems[:5]
    assert db.session.scalar(select(func.count(Achievement.id))) == len(created)
    assert search("achievement", staff, Filters(q="材料")).total > 0
    assert db.session.scalar(select(func.count(Need.id))) == 0
