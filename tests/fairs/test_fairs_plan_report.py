"""Issue 16: on the demo fair with default settings no meeting scores under the minimum, no
organization meets more than its quota, and the plan report shows both."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from matchmaker.core.extensions import db
from matchmaker.fairs import plan as fair_plan
from matchmaker.fairs.models import Fair
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Suggestion
from matchmaker.runs import full_match as matching_runs
from tests.jobs_helpers import RecordingQueue


@pytest.fixture
def demo_fair(demo_world, runner, monkeypatch):
    queue = RecordingQueue()
    monkeypatch.setattr(matching_runs, "send", queue)
    run = matching_runs.start_rematch()
    queue.drain()
    assert matching_runs.status(run.id)["status"] == "succeeded"
    held_on = (date.today() + timedelta(days=14)).isoformat()
    result = runner.invoke(
        args=["fairs", "create", "--name", "演示对接会", "--date", held_on, "--tables", "8"]
        + ["--register-all"]
    )
    assert result.exit_code == 0, result.output
    return db.session.get(Fair, int(result.output.strip()))


def test_demo_fair_keeps_to_the_minimum_score_and_the_quotas(demo_fair, client, login, make_user):
    plan = fair_plan.compute_plan(demo_fair.id)
    assert plan["min_score_source"] == "auto" and plan["min_score"] >= fair_plan.FLOOR
    assert plan["meetings"] > 0
    placed = [k for k, _, _ in plan["placement"]]
    rows = db.session.execute(
        select(
            Suggestion.score, Suggestion.state, Need.organization_id, Achievement.organization_id
        )
        .join(Need, Need.id == Suggestion.need_id)
        .join(Achievement, Achievement.id == Suggestion.achievement_id)
        .where(Suggestion.id.in_(placed))
    ).all()
    low = [
        r for r in rows if r.score < plan["min_score"] and r.state not in fair_plan.WANTED_STATES
    ]
    assert low == [] and plan["below_min_meetings"] == 0
    per_org = {}
    for r in rows:
        for org in {r[2], r[3]}:
            per_org[org] = per_org.get(org, 0) + 1
    quota = fair_plan.default_org_quota(demo_fair)
    assert quota < demo_fair.slots_count
    assert max(per_org.values()) <= quota
    assert plan["top_orgs"][0]["meetings"] == max(per_org.values())
    # Lowering the minimum lets weaker pairs in: the filter is what kept them out.
    fair_plan.set_min_score(demo_fair.id, "0", None)
    loose = fair_plan.compute_plan(demo_fair.id)
    assert loose["min_score_source"] == "staff" and loose["meetings"] >= plan["meetings"]

    fair_plan.set_min_score(demo_fair.id, "", None)
    login(make_user("staff"))
    page = client.get(f"/fairs/{demo_fair.id}/preview").get_data(as_text=True)
    assert f"最低匹配分 <b>{plan['min_score']:.2f}</b>" in page
    assert 'id="score-distribution"' in page and 'id="below-min">0<' in page
    assert f'id="org-quota">{quota}<' in page
    assert plan["top_orgs"][0]["name"] in page
    # Published, the fair page keeps the same report.
    client.post(f"/fairs/{demo_fair.id}/publish")
    detail = client.get(f"/fairs/{demo_fair.id}").get_data(as_text=True)
    assert 'id="plan-report"' in detail and 'id="top-orgs"' in detail
    summary = db.session.get(Fair, demo_fair.id).plan_summary
    assert json.loads(json.dumps(summary))["below_min_meetings"] == 0


def test_staff_set_the_minimum_score_and_pick_organizations_by_name(
    demo_fair, client, login, make_user
):
    login(make_user("staff"))
    bad = client.post(f"/fairs/{demo_fair.id}/min-score", data={"min_score": "2"})
    assert bad.status_code == 400 and "0到1之间" in bad.get_data(as_text=True)
    client.post(f"/fairs/{demo_fair.id}/min-score", data={"min_score": "0.3"})
    assert db.session.get(Fair, demo_fair.id).min_score == 0.3
    plan = fair_plan.compute_plan(demo_fair.id)
    assert plan["min_score"] == 0.3 and (plan["lowest_meeting_score"] or 1) >= 0.3
    page = client.get(f"/fairs/{demo_fair.id}").get_data(as_text=True)
    name = plan["top_orgs"][0]["name"]
    assert f'<option value="{name}">' in page and 'name="organization_id"' not in page
    client.post(
        f"/fairs/{demo_fair.id}/participant", data={"organization_name": name, "org_quota": "1"}
    )
    org_id = plan["top_orgs"][0]["id"]
    before = plan["top_orgs"][0]["meetings"]
    plan = fair_plan.compute_plan(demo_fair.id)
    row = next((r for r in plan["top_orgs"] if r["id"] == org_id), {"meetings": 0})
    assert before > 1 and row["meetings"] <= 1
    bad = client.post(
        f"/fairs/{demo_fair.id}/participant", data={"organization_name": "不存在的单位"}
    )
    assert bad.status_code == 400 and "未找到单位" in bad.get_data(as_text=True)
