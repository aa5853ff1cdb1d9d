"""Fair pages: staff create and publish, organizations register and read their agenda."""

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from matchmaker.core.extensions import db
from matchmaker.fairs.models import Fair, FairParticipant, FairRegistration
from matchmaker.pairs.models import Meeting, Suggestion


@pytest.fixture
def scene(make_user, make_org, make_need, make_achievement):
    staff = make_user("staff")
    company = make_user("enterprise")
    institute = make_user("institute")
    need = make_need(organization=company.organization, title="高精度减速器寿命提升")
    ach = make_achievement(organization=institute.organization, title="谐波减速器柔轮新工艺")
    other_need = make_need(title="别家的需求")
    for n in (need, other_need):
        db.session.add(Suggestion(need_id=n.id, achievement_id=ach.id, score=0.8))
    db.session.commit()
    return {"staff": staff, "company": company, "institute": institute, "need": need, "ach": ach}


def _create(client, **overrides):
    form = {
        "name": "智能制造专场对接会",
        "held_on": "2026-12-10",
        "venue": "沈阳国际展览中心",
        "starts_at": "09:00",
        "ends_at": "12:00",
        "slot_minutes": "20",
        "breaks": "10:20-10:40",
        "tables": "3",
        "default_quota": "3",
    }
    form.update(overrides)
    return client.post("/fairs/new", data=form)


def test_staff_creates_a_fair_with_breaks(scene, client, login):
    login(scene["staff"])
    response = _create(client)
    assert response.status_code == 302
    fair = db.session.scalars(select(Fair)).one()
    assert fair.slots_count == 8 and fair.breaks == [["10:20", "10:40"]]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "智能制造专场对接会" in page and "8 个时段" in page


def test_bad_fair_form_shows_errors_next_to_fields(scene, client, login):
    login(scene["staff"])
    response = _create(client, name="", tables="abc", breaks="午休")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="name"' in page and "请填写对接会名称" in page
    assert 'data-field="tables"' in page


def test_company_cannot_create_a_fair(scene, client, login):
    login(scene["company"])
    assert client.get("/fairs/new").status_code == 403


def test_full_flow_register_preview_publish_agenda(scene, client, login):
    login(scene["staff"])
    fair_url = _create(client).headers["Location"]
    fair = db.session.scalars(select(Fair)).one()
    client.post("/auth/logout")
    login(scene["company"])
    page = client.get(fair_url).get_data(as_text=True)
    assert "高精度减速器寿命提升" in page and "别家的需求" not in page
    client.post(f"/fairs/{fair.id}/register", data={"listing": f"need:{scene['need'].id}"})
    client.post(
        f"/fairs/{fair.id}/participant", data={"slots_form": "1", "unavailable": ["0", "1"]}
    )
    client.post("/auth/logout")
    login(scene["institute"])
    client.post(
        f"/fairs/{fair.id}/register",
        data={"listing": f"achievement:{scene['ach'].id}", "quota": "2"},
    )
    assert (
        db.session.scalar(
            select(FairRegistration.quota).where(FairRegistration.achievement_id == scene["ach"].id)
        )
        == 2
    )
    client.post("/auth/logout")
    login(scene["staff"])
    preview = client.get(f"/fairs/{fair.id}/preview").get_data(as_text=True)
    assert 'id="fig-meetings">1<' in preview and "谐波减速器柔轮新工艺" in preview
    response = client.post(f"/fairs/{fair.id}/publish")
    assert response.status_code == 302
    meeting = db.session.scalars(select(Meeting)).one()
    assert meeting.slot >= 2  # the company cannot come to the first two slots
    client.post("/auth/logout")
    login(scene["company"])
    agenda = client.get(f"/fairs/{fair.id}/agenda").get_data(as_text=True)
    assert "谐波减速器柔轮新工艺" in agenda and "本单位日程" in agenda
    book = load_workbook(BytesIO(client.get(f"/fairs/{fair.id}/agenda.xlsx").data))
    assert book.active.cell(row=3, column=4).value == "高精度减速器寿命提升"
    printable = client.get(f"/fairs/{fair.id}/agenda/print").get_data(as_text=True)
    # The print rules live in a static stylesheet (the CSP forbids inline <style>): follow it.
    sheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', printable).group(1)
    with client.get(sheet) as stylesheet:
        assert "@media print" in stylesheet.get_data(as_text=True)
    assert "高精度减速器寿命提升" in printable


def test_company_cannot_register_another_organizations_listing(scene, client, login):
    from matchmaker.fairs import organize as service

    fair = service.create_fair("会", "2026-12-01", slots=4, tables=2)
    login(scene["company"])
    response = client.post(
        f"/fairs/{fair.id}/register", data={"listing": f"achievement:{scene['ach'].id}"}
    )
    assert response.status_code == 403
    assert "只能为本单位" in response.get_data(as_text=True)


def test_staff_move_clash_shows_error_on_the_agenda(scene, client, login, make_need):
    from matchmaker.fairs import organize as service
    from matchmaker.fairs import plan as fair_plan

    fair = service.create_fair("会", "2026-12-01", slots=4, tables=3)
    service.register_all(fair.id, scene["staff"].id)
    fair_plan.publish(fair.id, scene["staff"].id)
    first, second = db.session.scalars(select(Meeting).order_by(Meeting.slot)).all()
    login(scene["staff"])
    response = client.post(
        f"/fairs/meetings/{second.id}/move",
        data={"slot": first.slot + 1, "table": str(first.table_no + 2)},
    )
    assert response.status_code == 400
    assert "已有其他洽谈" in response.get_data(as_text=True)
    response = client.post(f"/fairs/meetings/{second.id}/cancel", data={"note": "改期"})
    assert response.status_code == 302
    assert db.session.get(Meeting, second.id).status == "cancelled"


def test_broker_records_outcome_on_the_agenda(scene, client, login, make_user):
    from matchmaker.fairs import organize as service
    from matchmaker.fairs import plan as fair_plan

    fair = service.create_fair("会", "2026-12-01", slots=4, tables=2)
    service.register_all(fair.id, scene["staff"].id)
    fair_plan.publish(fair.id, scene["staff"].id)
    meeting = db.session.scalars(select(Meeting)).first()
    from matchmaker.listings.taxonomy import field_by_name

    broker = make_user("broker")
    broker.fields = [field_by_name("机器人与智能制造")]  # the pairs' field: the broker covers them
    db.session.commit()
    login(broker)
    bad = client.post(
        f"/fairs/meetings/{meeting.id}/outcome",
        data={"outcome": "contract", "contract_type": "", "amount": "x"},
    )
    assert bad.status_code == 400 and "请选择合同类型" in bad.get_data(as_text=True)
    ok = client.post(
        f"/fairs/meetings/{meeting.id}/outcome", data={"outcome": "intention", "note": "双方有意向"}
    )
    assert ok.status_code == 302
    assert (meeting.status, meeting.suggestion.state) == ("held", "intention")


def test_participant_marks_unavailable_slots(scene, client, login):
    from matchmaker.fairs import organize as service

    fair = service.create_fair("会", "2026-12-01", slots=4, tables=2)
    login(scene["institute"])
    client.post(f"/fairs/{fair.id}/participant", data={"slots_form": "1", "unavailable": ["3"]})
    part = db.session.scalars(select(FairParticipant)).one()
    assert part.unavailable_slots == [3]
    assert part.organization_id == scene["institute"].organization_id
    client.post("/auth/logout")
    login(scene["staff"])  # staff set the quota; the institute's slots stay
    client.post(
        f"/fairs/{fair.id}/participant",
        data={"organization_id": str(part.organization_id), "org_quota": "2"},
    )
    db.session.refresh(part)
    assert (part.quota, part.unavailable_slots) == (2, [3])


def test_api_gives_plan_agenda_and_dashboard(scene, client, login):
    from matchmaker.fairs import organize as service
    from matchmaker.fairs import plan as fair_plan

    fair = service.create_fair("会", "2026-12-01", slots=4, tables=2)
    service.register_all(fair.id, scene["staff"].id)
    login(scene["staff"])
    plan = client.get(f"/api/v1/fairs/{fair.id}/plan").get_json()
    assert plan["meetings"] == 2 and plan["double_booked"] == 0
    fair_plan.publish(fair.id, scene["staff"].id)
    client.post("/auth/logout")
    login(scene["company"])
    assert client.get("/api/v1/dashboard").status_code == 403
    meetings = client.get(f"/api/v1/fairs/{fair.id}/agenda").get_json()["meetings"]
    assert [m["need"] for m in meetings] == ["高精度减速器寿命提升"]
    assert client.get("/api/v1/fairs/99/agenda").get_json()["message"] == "对接会不存在"
