"""`flask demo load`: listing files in, published listings of generated organizations out."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from matchmaker.accounts.models import Field, Organization
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need

SHARED_EVAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "eval" / "csl-title-dev"


def write_lines(path: Path, rows: list) -> str:
    path.write_text(
        "".join(
            (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    return str(path)


def achievement(ref, **kw):
    row = {
        "id": ref,
        "title": f"成果{ref}",
        "description": "一种焊接机器人焊缝跟踪方法。",
        "keywords": ["焊接", "机器人"],
        "field": "机器人与智能制造",
    }
    row.update(kw)
    return row


def need(ref, **kw):
    row = {
        "id": ref,
        "title": f"需求{ref}",
        "description": "寻求厚板焊接自动化方案。",
        "keywords": ["焊接"],
        "field": "机器人与智能制造",
    }
    row.update(kw)
    return row


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def load(runner, *args):
    return runner.invoke(args=["demo", "load", *args])


def test_load_adds_published_listings_and_prints_counts(runner, tmp_path):
    a = write_lines(
        tmp_path / "a.jsonl",
        [
            achievement("A1"),
            achievement("A2", org="辽沈理工大学"),
            achievement("A3", org="辽沈理工大学"),
        ],
    )
    n = write_lines(tmp_path / "n.jsonl", [need("N1", field="量子信息")])
    result = load(runner, "--achievements", a, "--needs", n)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "organizations_added": 3,
        "fields_added": 1,
        "achievements_added": 3,
        "achievements_skipped": 0,
        "needs_added": 1,
        "needs_skipped": 0,
    }
    shared = db.session.scalar(select(Organization).where(Organization.name == "辽沈理工大学"))
    rows = db.session.scalars(
        select(Achievement).where(Achievement.organization_id == shared.id)
    ).all()
    assert sorted(r.external_ref for r in rows) == ["A2", "A3"]
    a1 = db.session.scalar(select(Achievement).where(Achievement.external_ref == "A1"))
    assert a1.status == "published" and a1.published_at is not None
    assert a1.organization.status == "approved" and a1.organization.kind == "institute"
    assert a1.keywords == ["焊接", "机器人"] and a1.fields[0].name == "机器人与智能制造"
    n1 = db.session.scalar(select(Need).where(Need.external_ref == "N1"))
    assert n1.fields[0].name == "量子信息" and n1.organization.kind == "enterprise"
    assert n1.organization_id not in (a1.organization_id, shared.id)


def test_loading_the_same_file_twice_adds_nothing(runner, tmp_path):
    a = write_lines(tmp_path / "a.jsonl", [achievement("A1"), achievement("A2")])
    load(runner, "--achievements", a)
    again = load(runner, "--achievements", a)
    assert again.exit_code == 0, again.output
    counts = json.loads(again.output)
    assert counts["achievements_added"] == 0 and counts["achievements_skipped"] == 2
    assert counts["organizations_added"] == 0
    assert count(Achievement) == 2 and count(Organization) == 2


def test_ids_are_unique_per_kind_not_across_kinds(runner, tmp_path):
    a = write_lines(tmp_path / "a.jsonl", [achievement("X1")])
    n = write_lines(tmp_path / "n.jsonl", [need("X1")])
    result = load(runner, "--achievements", a, "--needs", n)
    assert result.exit_code == 0, result.output
    assert count(Achievement) == 1 and count(Need) == 1


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "不是有效的JSON"),
        ('["a list"]', "JSON对象"),
        (json.dumps({"title": "无编号", "field": "新材料"}), "缺少 id"),
        (json.dumps({"id": "B1", "title": "无领域"}), "缺少 field"),
        (json.dumps({"id": "B1", "title": "t", "field": "新材料", "keywords": "焊接"}), "keywords"),
        (json.dumps({"id": "B1", "title": "", "description": "", "field": "新材料"}), "不能都为空"),
        (json.dumps({"id": "A1", "title": "重复", "field": "新材料"}), "与第1行重复"),
    ],
)
def test_a_bad_line_is_reported_by_number_and_nothing_is_loaded(
    runner, tmp_path, bad_line, message
):
    good = write_lines(tmp_path / "n.jsonl", [need("N1")])
    a = write_lines(tmp_path / "a.jsonl", [achievement("A1"), achievement("A2"), bad_line])
    result = load(runner, "--needs", good, "--achievements", a)
    assert result.exit_code == 2
    assert "a.jsonl:3: " in result.output and message in result.output
    assert "Traceback" not in result.output
    assert count(Achievement) == 0 and count(Need) == 0 and count(Organization) == 0


def test_load_refuses_missing_file_and_no_options(runner, tmp_path):
    assert load(runner).exit_code == 2
    assert load(runner, "--needs", str(tmp_path / "absent.jsonl")).exit_code == 2


def test_blank_lines_and_numeric_ids_are_accepted(runner, tmp_path):
    a = write_lines(tmp_path / "a.jsonl", [achievement(7), "", achievement("8")])
    result = load(runner, "--achievements", a)
    assert result.exit_code == 0, result.output
    refs = db.session.scalars(select(Achievement.external_ref).order_by(Achievement.external_ref))
    assert list(refs) == ["7", "8"]


def test_load_thousands_of_shared_eval_lines(runner, tmp_path):
    source = SHARED_EVAL / "achievements.jsonl"
    if not source.exists():
        pytest.skip(f"shared evaluation data not found at {source}")
    with source.open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(2000)]
    a = tmp_path / "a.jsonl"
    a.write_text("".join(lines), encoding="utf-8")
    result = load(runner, "--achievements", str(a), "--needs", str(SHARED_EVAL / "needs.jsonl"))
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["achievements_added"] == 2000 and counts["needs_added"] == 1000
    assert count(Achievement) == 2000
    assert db.session.scalar(select(func.count(Field.id)).where(Field.position == 1000)) >= 1


def test_loaded_listings_are_found_by_search(runner, tmp_path):
    from matchmaker.listings.search import parse_filters, search

    a = write_lines(
        tmp_path / "a.jsonl",
        [
            achievement("A1", title="协作机器人关节模组", keywords=["协作机器人"]),
            achievement(
                "A2", title="秸秆炭化炉", description="秸秆连续炭化成套设备。", keywords=["秸秆"]
            ),
        ],
    )
    assert load(runner, "--achievements", a).exit_code == 0
    page = search("achievement", None, parse_filters("achievement", {"q": "机器人"}))
    assert [r.external_ref for r in page.items] == ["A1"]
