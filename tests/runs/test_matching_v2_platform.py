"""Matching v2 on the platform: every declared field in the poster's order, cross-field pairs,
incremental matches on the full run's scale, staff synonym groups."""

import json

import pytest
from sqlalchemy import select

from matchmaker.accounts.users import issue_token
from matchmaker.core.extensions import db
from matchmaker.core.signals import listing_published
from matchmaker.listings.bulk_load import load_listing_files
from matchmaker.listings.models import Achievement, Need, need_fields
from matchmaker.matching import Matcher
from matchmaker.pairs.models import Suggestion
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import inputs as matching_inputs
from matchmaker.runs import vocabulary
from matchmaker.runs.models import MatchRun
from tests.jobs_helpers import RecordingQueue, seed_listings

A, B, C = "新材料", "新能源汽车", "公共安全"

SIC_NEED = (
    "碳化硅功率模块散热与封装",
    "电机控制器用碳化硅功率模块散热不佳，寻求低热阻封装与散热设计方案。",
    ["碳化硅", "功率模块", "散热"],
)
SIC_ACHIEVEMENT = (
    "碳化硅功率模块低热阻封装散热技术",
    "面向电机控制器的碳化硅功率模块封装，散热设计使热阻降低三成。",
    ["碳化硅", "功率模块", "封装"],
)
CASTING_NEED = (
    "大型铸件内部缺陷的无损检测",
    "大型铸件内部气孔、缩松缺陷难以发现，寻求铸件内部缺陷无损检测方法与设备。",
    ["铸件", "无损检测", "内部缺陷"],
)
CASTING_ACHIEVEMENT = (
    "相控阵超声铸件内部缺陷无损检测系统",
    "相控阵超声成像检测大型铸件内部气孔与缩松缺陷，实现铸件无损检测自动化。",
    ["相控阵超声", "无损检测", "铸件"],
)


@pytest.fixture
def queue(app, monkeypatch):
    q = RecordingQueue()
    monkeypatch.setattr(matching_runs, "send", q)
    return q


@pytest.fixture
def corpus(make_achievement, make_need, make_org):
    return seed_listings(make_achievement, make_need, make_org)


def rematch(queue, kind="full"):
    run = matching_runs.start_rematch(kind)
    queue.drain()
    db.session.expire_all()
    return db.session.get(MatchRun, run.id)


def publish(make, queue, texts, fields):
    title, description, keywords = texts
    listing = make(title=title, description=description, keywords=keywords, fields=fields)
    listing_published.send(
        "need" if isinstance(listing, Need) else "achievement", listing_id=listing.id
    )
    queue.drain()
    db.session.expire_all()
    return listing


def pair_of(need, achievement) -> Suggestion | None:
    return db.session.scalar(
        select(Suggestion).where(
            Suggestion.need_id == need.id,
            Suggestion.achievement_id == achievement.id,
            Suggestion.active.is_(True),
        )
    )


def suggested_ids(kind: str, listing_id: int) -> list[int]:
    own, other = (
        (Suggestion.need_id, Suggestion.achievement_id)
        if kind == "need"
        else (Suggestion.achievement_id, Suggestion.need_id)
    )
    return list(
        db.session.scalars(
            select(other)
            .where(own == listing_id, Suggestion.active.is_(True))
            .order_by(Suggestion.score.desc())
        )
    )


# -- the poster's order of fields ------------------------------------------------------------
def test_declared_fields_keep_the_posters_order_through_edits(make_need):
    need = make_need(fields=[B, A])
    db.session.expire_all()
    need = db.session.get(Need, need.id)
    assert need.field_names == [B, A] and need.primary_field.name == B
    from matchmaker.listings.taxonomy import field_by_name

    need.fields = [field_by_name(A), field_by_name(C), field_by_name(B)]
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Need, need.id).field_names == [A, C, B]
    rows = db.session.execute(
        select(need_fields.c.position).where(need_fields.c.need_id == need.id)
    ).scalars()
    assert sorted(rows) == [0, 1, 2]


def test_the_engine_gets_every_field_in_the_posters_order(make_need, make_achievement):
    need = make_need(fields=[B, A], title="碳化硅")
    make_achievement(fields=[C], title="碳化硅")
    data = matching_inputs.load_published(vocabulary.match_config(), reuse_tokens=False)
    assert [x.fields for x in data.needs] == [(B, A)]
    assert data.needs[0].id == need.id and [x.fields for x in data.achievements] == [(C,)]
    _, one = matching_inputs.listing_for("need", need.id)
    assert one.fields == (B, A)


def test_pages_and_api_show_fields_in_the_posters_order(client, login, make_user, make_need):
    company = make_user("enterprise")
    need = make_need(fields=[B, A], organization=company.organization, status="draft")
    login(company)
    detail = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert detail.index(f'<span class="tag">{B}</span>') < detail.index(
        f'<span class="tag">{A}</span>'
    )
    form = client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    choices = form[form.index('id="field-choices"') :]
    assert choices.index(f"checked>{B}") < choices.index(f"checked>{A}")
    headers = {"Authorization": f"Bearer {issue_token(company.login)}"}
    body = client.get(f"/api/v1/needs/{need.id}", headers=headers).json
    assert body["fields"] == [B, A]
    changed = client.patch(f"/api/v1/needs/{need.id}", json={"fields": [A, C]}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["fields"] == [A, C]


# -- listing files ------------------------------------------------------------------------------
def write_lines(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_listing_files_take_fields_in_order_and_fields_wins_over_field(app, tmp_path):
    needs = write_lines(
        tmp_path / "n.jsonl",
        [
            {"id": "n1", "title": "焊缝检测", "fields": [B, "海洋装备", A], "field": C},
            {"id": "n2", "title": "铸件探伤", "field": C},
        ],
    )
    counts = load_listing_files(needs=needs)
    assert counts["needs_added"] == 2 and counts["fields_added"] == 1
    by_ref = {n.external_ref: n for n in db.session.scalars(select(Need))}
    assert by_ref["n1"].field_names == [B, "海洋装备", A]
    assert by_ref["n2"].field_names == [C]


@pytest.mark.parametrize(
    "line, message",
    [
        ({"id": "x", "title": "t", "fields": "新材料"}, "fields 应为字符串数组"),
        ({"id": "x", "title": "t", "fields": []}, "缺少 fields"),
        ({"id": "x", "title": "t", "fields": ["a", "b", "c", "d", "e", "f"]}, "fields 最多5个"),
        ({"id": "x", "title": "t"}, "缺少 field"),
    ],
)
def test_bad_fields_in_a_listing_file_name_the_line(app, tmp_path, line, message):
    from matchmaker.core.exceptions import ServiceError

    path = write_lines(tmp_path / "a.jsonl", [{"id": "ok", "title": "t", "field": A}, line])
    with pytest.raises(ServiceError) as error:
        load_listing_files(achievements=path)
    assert f"a.jsonl:2: {message}" in error.value.message
    assert db.session.scalar(select(db.func.count(Achievement.id))) == 0


def test_demo_load_accepts_fields(runner, tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [{"id": "a1", "title": "焊接", "fields": [C, A]}])
    result = runner.invoke(args=["demo", "load", "--achievements", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Achievement)).field_names == [C, A]


# -- the issue's platform test -----------------------------------------------------------------
def test_a_shared_second_field_pairs_them_after_a_full_rematch(
    client, login, make_user, queue, corpus, make_need, make_achievement
):
    title, description, keywords = SIC_NEED
    need = make_need(title=title, description=description, keywords=keywords, fields=[A, B])
    title, description, keywords = SIC_ACHIEVEMENT
    achievement = make_achievement(
        title=title, description=description, keywords=keywords, fields=[B]
    )
    rematch(queue)
    pair = pair_of(need, achievement)
    assert pair is not None and pair.need_rank == 1 and pair.achievement_rank == 1
    assert pair.same_field and not pair.cross_field
    assert suggested_ids("need", need.id)[0] == achievement.id
    assert suggested_ids("achievement", achievement.id)[0] == need.id
    login(make_user("staff"))
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert f"共同领域：{B}" in page and "跨领域" not in page


def test_a_shared_second_field_pairs_them_after_an_incremental_match(
    client, login, make_user, queue, corpus, make_need, make_achievement
):
    rematch(queue)
    make_need(title="草稿", status="draft")  # the new need and achievement get different ids
    need = publish(make_need, queue, SIC_NEED, [A, B])
    achievement = publish(make_achievement, queue, SIC_ACHIEVEMENT, [B])
    pair = pair_of(need, achievement)
    assert pair is not None and pair.same_field and not pair.cross_field
    assert suggested_ids("need", need.id)[0] == achievement.id
    assert suggested_ids("achievement", achievement.id)[0] == need.id
    login(make_user("staff"))
    assert f"共同领域：{B}" in client.get(f"/pairs/{pair.id}").get_data(as_text=True)


def test_a_clear_partner_in_another_field_is_suggested_and_marked_cross_field(
    client, login, make_user, queue, corpus, make_need, make_achievement
):
    title, description, keywords = CASTING_NEED
    need = make_need(title=title, description=description, keywords=keywords, fields=[A])
    title, description, keywords = CASTING_ACHIEVEMENT
    achievement = make_achievement(
        title=title, description=description, keywords=keywords, fields=[C]
    )
    rematch(queue)
    pair = pair_of(need, achievement)
    assert pair is not None and pair.need_rank == 1
    assert pair.cross_field and not pair.same_field
    staff = make_user("staff")
    login(staff)
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert "跨领域" in page and "共同领域" not in page
    only_cross = client.get("/workbench?cross=1").get_data(as_text=True)
    assert f'data-pair="{pair.id}"' in only_cross and "跨领域" in only_cross
    same_only = client.get("/workbench?cross=0").get_data(as_text=True)
    assert f'data-pair="{pair.id}"' not in same_only and 'data-pair="' in same_only
    bad = client.get("/workbench?cross=maybe")
    assert bad.status_code == 400 and "跨领域筛选无效" in bad.get_data(as_text=True)
    exported = {(r["need_id"], r["achievement_id"]): r for r in _export_rows()}
    assert exported[(need.id, achievement.id)]["cross_field"] is True


def _export_rows():
    from matchmaker.runs import export as matching_export

    return list(matching_export.current_rows())


# -- incremental = full --------------------------------------------------------------------------
def test_listings_published_after_the_fit_find_each_other_on_the_full_runs_scale(
    queue, corpus, make_need, make_achievement
):
    first = rematch(queue)
    make_need(title="草稿", status="draft")  # different ids; equal ones: the next test
    need = publish(make_need, queue, CASTING_NEED, [A])
    achievement = publish(make_achievement, queue, CASTING_ACHIEVEMENT, [A])
    assert achievement.id in suggested_ids("need", need.id)
    assert need.id in suggested_ids("achievement", achievement.id)
    assert suggested_ids("achievement", achievement.id)[0] == need.id
    incremental = {
        (s.need_id, s.achievement_id): s.score
        for s in db.session.scalars(
            select(Suggestion).where(
                Suggestion.active.is_(True),
                (Suggestion.need_id == need.id) | (Suggestion.achievement_id == achievement.id),
            )
        )
    }
    assert incremental and all(v == first.model_version for v in _versions(incremental))
    second = rematch(queue)
    assert second.status == "succeeded" and second.model_version != first.model_version
    for (need_id, achievement_id), score in incremental.items():
        row = db.session.scalar(
            select(Suggestion).where(
                Suggestion.need_id == need_id, Suggestion.achievement_id == achievement_id
            )
        )
        assert row.active, f"pair {need_id}-{achievement_id} disappeared after the full rematch"
        assert abs(row.score - score) <= 0.02, (need_id, achievement_id, score, row.score)


def test_new_listings_find_each_other_when_their_ids_coincide_across_sides(
    queue, corpus, make_need, make_achievement
):
    rematch(queue)
    need = publish(make_need, queue, CASTING_NEED, [A])
    achievement = publish(make_achievement, queue, CASTING_ACHIEVEMENT, [A])
    assert need.id == achievement.id  # needs and achievements are numbered separately
    assert suggested_ids("achievement", achievement.id)[:1] == [need.id]
    assert suggested_ids("need", need.id)[:1] == [achievement.id]


def _versions(pairs) -> set[str]:
    return {
        db.session.scalar(
            select(Suggestion.model_version).where(
                Suggestion.need_id == n, Suggestion.achievement_id == a
            )
        )
        for n, a in pairs
    }


# -- synonyms ------------------------------------------------------------------------------------
def test_staff_add_and_remove_synonym_groups_on_the_vocabulary_page(client, login, make_user):
    login(make_user("staff"))
    page = client.get("/runs/vocabulary").get_data(as_text=True)
    assert "系统自带的同义词组" in page and "无损检测 = 探伤" in page  # the engine's starter list
    ok = client.post(
        "/runs/vocabulary",
        data={"kind": "synonym", "word": "焊缝跟踪＝焊道跟踪、 焊缝寻位"},
        follow_redirects=True,
    )
    text = ok.get_data(as_text=True)
    assert "已添加同义词组“焊缝跟踪 = 焊道跟踪 = 焊缝寻位”" in text
    assert vocabulary.synonyms() == (("焊缝跟踪", "焊道跟踪", "焊缝寻位"),)
    assert vocabulary.match_config().synonyms == (("焊缝跟踪", "焊道跟踪", "焊缝寻位"),)
    again = client.post(
        "/runs/vocabulary", data={"kind": "synonym", "word": "焊道跟踪=焊缝跟踪=焊缝寻位"}
    )
    assert again.status_code == 400 and "已存在" in again.get_data(as_text=True)
    overlap = client.post("/runs/vocabulary", data={"kind": "synonym", "word": "焊缝寻位=焊缝定位"})
    assert overlap.status_code == 400 and "“焊缝寻位”已在同义词组" in overlap.get_data(as_text=True)
    shipped = client.post("/runs/vocabulary", data={"kind": "synonym", "word": "探伤=缺陷检测"})
    assert shipped.status_code == 400 and "“探伤”已在同义词组" in shipped.get_data(as_text=True)
    lone = client.post("/runs/vocabulary", data={"kind": "synonym", "word": "探伤"})
    assert lone.status_code == 400 and "至少需要两个不同的词" in lone.get_data(as_text=True)
    group = vocabulary.synonym_groups()[0]
    client.post(f"/runs/vocabulary/synonyms/{group.id}/delete")
    assert vocabulary.synonyms() == ()


def test_a_synonym_group_is_a_new_model_version(queue, corpus):
    before = Matcher(vocabulary.match_config()).version
    first = rematch(queue)
    vocabulary.add_synonyms("散热 = 热管理")
    assert Matcher(vocabulary.match_config()).version != before
    second = rematch(queue, kind="rebuild")
    assert second.status == "succeeded" and second.model_version != first.model_version


def test_an_incremental_match_skips_partners_closed_since_the_fit(queue, corpus, make_need):
    achievements, _ = corpus
    rematch(queue)
    robot = db.session.get(Achievement, achievements[2].id)  # 工业机器人视觉定位系统
    robot.status = "closed"
    db.session.commit()
    texts = ("装配线机器人视觉定位抓取", "柔性装配产线需要机器人视觉定位抓取系统。", ["机器人"])
    need = publish(make_need, queue, texts, ["机器人与智能制造"])
    found = suggested_ids("need", need.id)
    assert robot.id not in found
    ranks = db.session.scalars(
        select(Suggestion.need_rank)
        .where(Suggestion.need_id == need.id, Suggestion.active.is_(True))
        .order_by(Suggestion.need_rank)
    ).all()
    assert ranks == list(range(1, len(ranks) + 1))


def test_the_migration_numbers_existing_fields_in_the_order_they_were_shown(tmp_path):
    import os

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from config import TestConfig
    from matchmaker.app import create_app

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'old.db'}"
    config.INSTANCE_DIR = tmp_path
    directory = os.path.join(os.path.dirname(__file__), "..", "..", "migrations")
    app = create_app(config)
    with app.app_context():
        upgrade(directory=directory, revision="0004_suggestion_writes")
        from matchmaker.accounts.models import Organization

        with db.engine.begin() as conn:
            # Core inserts fill the columns' Python defaults; both tables are as 0004 left them.
            conn.execute(Organization.__table__.insert().values(id=1, name="o", kind="enterprise"))
            # Only the columns of the needs table as 0004 left it (later migrations add more).
            conn.execute(
                sa.text(
                    "INSERT INTO needs (id, title, description, keywords, contact_name,"
                    " contact_phone, status, review_note, revision, created_at, updated_at,"
                    " cooperation_modes, is_bottleneck, organization_id) VALUES (1, 't', '',"
                    " '[]', '', '', 'draft', '', 1, '2026-01-01', '2026-01-01', '[]', false, 1)"
                )
            )
            conn.execute(
                sa.text("INSERT INTO need_fields (need_id, field_id) VALUES (1, 9), (1, 3)")
            )
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT field_id, position FROM need_fields ORDER BY position")
            ).all()
        assert [tuple(r) for r in rows] == [(3, 0), (9, 1)]
        db.session.remove()
        db.engine.dispose()
