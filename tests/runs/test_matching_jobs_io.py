"""Incremental matches, the matching CLI contract, the runs pages and the runs API."""

import json

import pytest
from sqlalchemy import select

from matchmaker.core.extensions import db
from matchmaker.core.signals import listing_published, listing_withdrawn
from matchmaker.pairs.models import Suggestion
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import incremental as matching_incremental
from matchmaker.runs.models import MatchRun
from tests.jobs_helpers import RecordingQueue, seed_listings


@pytest.fixture
def queue(app, monkeypatch):
    q = RecordingQueue()
    monkeypatch.setattr(matching_runs, "send", q)
    return q


@pytest.fixture
def matched(queue, make_achievement, make_need, make_org):
    achievements, needs = seed_listings(make_achievement, make_need, make_org)
    run = matching_runs.start_rematch()
    queue.drain()
    return run, achievements, needs


def active_for_need(need_id):
    return db.session.scalars(
        select(Suggestion)
        .where(Suggestion.need_id == need_id, Suggestion.active.is_(True))
        .order_by(Suggestion.need_rank.is_(None), Suggestion.need_rank, Suggestion.score.desc())
    ).all()


# -- incremental ---------------------------------------------------------------------------
def test_publishing_a_need_queues_its_incremental_match(queue, matched, make_need):
    run, achievements, _ = matched
    need = make_need(title="机器人视觉定位抓取系统", description="柔性装配产线机器人视觉抓取")
    listing_published.send("need", listing_id=need.id)
    assert [t for t, *_ in queue.sent] == ["match_listing"]
    queue.drain()
    rows = active_for_need(need.id)
    assert rows and rows[0].achievement_id == achievements[2].id and rows[0].need_rank == 1
    assert rows[0].model_version == run.model_version
    incremental = db.session.scalars(select(MatchRun).where(MatchRun.kind == "incremental")).one()
    assert incremental.status == "succeeded" and incremental.suggestions == len(rows)


def test_editing_a_need_rescores_and_retires_its_old_untouched_pairs(queue, matched):
    _, achievements, needs = matched
    need = needs[0]  # about silicon-carbide cooling
    assert active_for_need(need.id)[0].achievement_id == achievements[0].id
    need.title, need.description, need.keywords = "抗稻瘟病水稻品种", "引进抗病水稻", ["水稻"]
    need.revision += 1
    db.session.commit()
    listing_published.send("need", listing_id=need.id)
    queue.drain()
    db.session.expire_all()
    rows = active_for_need(need.id)
    assert rows[0].achievement_id == achievements[3].id
    assert achievements[0].id not in {r.achievement_id for r in rows}


def test_no_incremental_run_before_the_first_full_rematch(queue, make_need):
    need = make_need(title="机器人视觉")
    assert matching_incremental.queue_listing_match("need", need.id) is None
    listing_published.send("need", listing_id=need.id)
    assert queue.sent == []


def test_withdrawing_a_listing_retires_its_untouched_suggestions(queue, matched):
    _, _, needs = matched
    need = needs[1]
    need.status = "closed"
    db.session.commit()
    listing_withdrawn.send("need", listing_id=need.id)
    assert active_for_need(need.id) == []


# -- CLI -----------------------------------------------------------------------------------
def test_cli_status_prints_the_contract_line(runner, matched):
    run = matched[0]
    result = runner.invoke(args=["matching", "status", str(run.id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"run_id": run.id, "status": "succeeded", "progress": 1.0}


def test_cli_status_of_an_unknown_run_is_one_error_line(runner, app):
    result = runner.invoke(args=["matching", "status", "999"])
    assert result.exit_code == 2 and "不存在" in result.output


def test_cli_export_writes_every_current_suggestion_as_jsonl(runner, matched, tmp_path):
    run, achievements, needs = matched
    out = tmp_path / "suggestions.jsonl"
    result = runner.invoke(args=["matching", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    active = db.session.scalar(select(db.func.count()).where(Suggestion.active.is_(True)))
    assert len(lines) == active > 0
    first = lines[0]
    assert set(first) == {
        "need_id",
        "achievement_id",
        "need_ref",
        "achievement_ref",
        "score",
        "need_rank",
        "achievement_rank",
        "model_version",
        "cross_field",
    }
    refs = {n.id: n.external_ref for n in needs}
    assert (
        first["need_ref"] == refs[first["need_id"]] and first["model_version"] == run.model_version
    )


def test_cli_rematch_prints_the_run_id_and_refuses_a_second(runner, queue, matched):
    first = runner.invoke(args=["matching", "rematch"])
    assert first.exit_code == 0 and first.output.strip().isdigit()
    second = runner.invoke(args=["matching", "rematch"])
    assert second.exit_code == 2 and "已有全量匹配任务" in second.output
    cancel = runner.invoke(args=["matching", "cancel", first.output.strip()])
    assert json.loads(cancel.output)["status"] == "cancelled"


def test_cli_rematch_if_empty_skips_when_suggestions_exist(runner, queue, matched):
    result = runner.invoke(args=["matching", "rematch", "--if-empty"])
    assert result.exit_code == 0 and "no rematch" in result.output and queue.sent == []


# -- web pages -----------------------------------------------------------------------------
def test_staff_see_runs_with_status_counts_and_errors_in_chinese(client, login, make_user, matched):
    failed = MatchRun(kind="full", status="failed", error="第 1 块（需求）重试 5 次仍失败")
    db.session.add(failed)
    db.session.commit()
    login(make_user("staff"))
    page = client.get("/runs/").get_data(as_text=True)
    assert "已完成" in page and "失败" in page and "重试 5 次仍失败" in page
    assert "启动全量匹配" in page and "匹配任务" in page


def test_staff_start_and_cancel_a_run_from_the_page(client, login, make_user, queue, matched):
    login(make_user("staff"))
    response = client.post("/runs/start", data={"kind": "full"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已启动全量匹配任务" in page and "排队中" in page
    again = client.post("/runs/start", data={"kind": "full"}, follow_redirects=True)
    assert "已有全量匹配任务" in again.get_data(as_text=True)
    run = db.session.scalars(select(MatchRun).order_by(MatchRun.id.desc())).first()
    progress = client.get(f"/runs/progress.json?ids={run.id}").get_json()
    assert progress["runs"][0]["status"] == "queued" and progress["runs"][0]["progress"] == 0.0
    cancelled = client.post(f"/runs/{run.id}/cancel", follow_redirects=True)
    assert "已取消" in cancelled.get_data(as_text=True)


@pytest.mark.parametrize("role", ["broker", "institute", "enterprise"])
def test_runs_pages_are_for_staff_only(client, login, make_user, role):
    login(make_user(role))
    assert client.get("/runs/").status_code == 403
    assert client.post("/runs/start").status_code == 403
    assert client.get("/api/v1/runs").status_code == 403


def test_vocabulary_page_adds_removes_and_explains_bad_input(client, login, make_user):
    login(make_user("staff"))
    ok = client.post(
        "/runs/vocabulary", data={"kind": "term", "word": "碳化硅衬底"}, follow_redirects=True
    )
    assert "已添加领域词“碳化硅衬底”" in ok.get_data(as_text=True)
    duplicate = client.post("/runs/vocabulary", data={"kind": "term", "word": "碳化硅衬底"})
    assert duplicate.status_code == 400 and "已存在" in duplicate.get_data(as_text=True)
    blank = client.post("/runs/vocabulary", data={"kind": "stopword", "word": "  "})
    assert 'data-field="word"' in blank.get_data(as_text=True) and "请输入词语" in blank.get_data(
        as_text=True
    )
    from matchmaker.runs import vocabulary

    entry = vocabulary.entries()[0]
    client.post(f"/runs/vocabulary/{entry.id}/delete")
    assert vocabulary.entries() == []


# -- API -----------------------------------------------------------------------------------
def test_api_starts_reads_refuses_and_cancels_runs(client, make_user, queue, matched):
    from matchmaker.accounts.users import issue_token

    token = issue_token(make_user("staff").login)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    created = client.post("/api/v1/runs", json={"kind": "full"})
    assert created.status_code == 202
    run_id = created.get_json()["run_id"]
    conflict = client.post("/api/v1/runs", json={})
    assert conflict.status_code == 409 and "已有全量匹配任务" in conflict.get_json()["message"]
    bad = client.post("/api/v1/runs", json={"kind": "sideways"})
    assert bad.status_code == 400 and bad.get_json()["errors"] == {"kind": "未知的任务类型"}
    assert client.get(f"/api/v1/runs/{run_id}").get_json()["status"] == "queued"
    assert client.get("/api/v1/runs/999").status_code == 404
    assert client.post(f"/api/v1/runs/{run_id}/cancel").get_json()["status"] == "cancelled"
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 409
    listed = client.get("/api/v1/runs").get_json()["runs"]
    assert [r["status"] for r in listed[:2]] == ["cancelled", "succeeded"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/runs"])
    assert "/api/v1/runs/{run_id}/cancel" in spec["paths"]


def test_worker_health_reports_no_worker_in_words(client, app):
    response = client.get("/healthz/worker?timeout=0.5")
    assert response.status_code == 503
    assert response.get_json()["ok"] is False and response.get_json()["message"]
