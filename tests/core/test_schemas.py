"""One declaration per input: the same model checks, reports in Chinese and documents."""

import json
from datetime import date

from matchmaker.accounts.users import issue_token
from matchmaker.core.schemas import check
from matchmaker.fairs.schemas import check_fair
from matchmaker.listings.filter_schema import ListingFilters
from matchmaker.listings.models import MATURITY_TRL
from matchmaker.listings.schemas import AchievementInput, NeedInput

# The operations /api/v1/openapi.json listed when the schemas moved to pydantic (issue 12).
OPERATIONS_BEFORE = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/agencies"),
    ("get", "/api/v1/challenge-applications/{application_id}"),
    ("get", "/api/v1/challenges"),
    ("get", "/api/v1/challenges/{problem_id}"),
    ("post", "/api/v1/challenges/{problem_id}/applications"),
    ("get", "/api/v1/dashboard"),
    ("get", "/api/v1/fairs/{fair_id}/agenda"),
    ("get", "/api/v1/fairs/{fair_id}/plan"),
    ("get", "/api/v1/pairs"),
    ("get", "/api/v1/pairs/{id}"),
    ("post", "/api/v1/pairs/{id}/transitions"),
    ("get", "/api/v1/runs"),
    ("post", "/api/v1/runs"),
    ("get", "/api/v1/runs/{run_id}"),
    ("post", "/api/v1/runs/{run_id}/cancel"),
} | {
    (method, f"/api/v1/{plural}{tail}")
    for plural in ("achievements", "needs")
    for method, tail in (
        ("get", ""),
        ("post", ""),
        ("get", "/{listing_id}"),
        ("patch", "/{listing_id}"),
        ("post", "/{listing_id}/submit"),
        ("post", "/{listing_id}/withdraw"),
        ("post", "/{listing_id}/close"),
        ("post", "/{listing_id}/review"),
        ("get", "/{listing_id}/events"),
        ("get", "/{listing_id}/suggestions"),
    )
}


def _operations(spec: dict) -> set:
    return {(method, path) for path, item in spec["paths"].items() for method in item}


def test_openapi_keeps_every_operation_and_documents_inputs_from_the_models(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert len(OPERATIONS_BEFORE) == 36 and OPERATIONS_BEFORE <= _operations(spec)
    schemas = spec["components"]["schemas"]
    title = schemas["AchievementInput"]["properties"]["title"]
    assert (title["maxLength"], title["minLength"], title["title"]) == (200, 4, "标题")
    assert schemas["NeedInput"]["properties"]["description"]["title"] == "需求描述"
    assert "submit" in schemas["NeedInput"]["properties"]
    transition = spec["paths"]["/api/v1/pairs/{id}/transitions"]["post"]["requestBody"]
    body = transition["content"]["application/json"]["schema"]
    assert body["required"] == ["to"] and "recommended" in body["properties"]["to"]["enum"]
    names = [p["name"] for p in spec["paths"]["/api/v1/needs"]["get"]["parameters"]]
    assert {"q", "field", "min", "max", "bottleneck", "page", "per_page"} <= set(names)
    assert "maturity" not in names
    json.dumps(spec)  # plain JSON all the way down


def test_the_documented_limit_is_the_checked_limit(app):
    limit = AchievementInput.model_json_schema()["properties"]["title"]["maxLength"]
    with app.app_context():
        ok = check(AchievementInput, {"title": "标" * limit})
        too_long = check(AchievementInput, {"title": "标" * (limit + 1)})
    assert ok.errors == {} and ok.values["title"] == "标" * limit
    assert too_long.errors == {"title": f"标题不能超过{limit}个字（现有{limit + 1}个）"}


def test_every_problem_is_reported_in_chinese_and_the_rest_still_cleaned(app):
    raw = {
        "title": "焊缝视觉检测需求",
        "budget_min": "50",
        "budget_max": "20",
        "deadline": "明年",
        "is_bottleneck": "也许",
        "external_ref": "  ERP-7 ",
    }
    with app.app_context():
        checked = check(NeedInput, raw, complete=True, today=date(2026, 1, 1))
    assert checked.errors == {
        "description": "请填写需求描述",
        "fields": "请至少选择一个技术领域",
        "budget_max": "预算上限（万元）不能小于预算下限（万元）",
        "deadline": "截止日期格式应为 YYYY-MM-DD，如 2027-06-30",
        "is_bottleneck": "卡脖子难题应填“是”或“否”",
    }
    assert (
        checked.values["external_ref"] == "ERP-7" and str(checked.values["budget_min"]) == "50.00"
    )


def test_user_typed_braces_do_not_break_a_message(app):
    with app.app_context():
        checked = check(AchievementInput, {"title": "成果标题", "transfer_modes": "{x}"})
    assert checked.errors["transfer_modes"].startswith("未知的转化方式：{x}")


def test_search_filters_name_the_query_argument_in_their_errors():
    checked = check(ListingFilters, {"min": "9", "max": "3", "field": "x"}, kind="need")
    assert checked.errors == {"field": "技术领域无效", "max": "上限不能小于下限"}
    # maturity is an achievement's: a need search refuses it even when the stage exists
    assert check(ListingFilters, {"maturity": "中试"}, kind="need").errors == {
        "maturity": f"成熟度无效（可选：{'、'.join(MATURITY_TRL)}）"
    }
    assert check(ListingFilters, {"maturity": "中试"}, kind="achievement").errors == {}


def test_fair_timetable_problems_come_one_at_a_time_after_the_field_problems():
    checked = check_fair({"name": "", "held_on": "2026-12-01", "starts_at": "9点", "breaks": "x"})
    assert checked.errors == {
        "name": "请填写对接会名称",
        "starts_at": "时间格式应为 HH:MM，例如 09:00",
    }
    late = check_fair(
        {"name": "会", "held_on": "2026-12-01", "starts_at": "10:00", "ends_at": "09:00"}
    )
    assert late.errors == {"ends_at": "结束时间应晚于开始时间"}
    by_slots = check_fair(
        {"name": "会", "held_on": "2026-12-01", "slots": "4", "slot_minutes": "30"}
    )
    assert by_slots.errors == {} and f"{by_slots.values['ends_at']:%H:%M}" == "11:00"


def test_pair_transition_body_is_checked_by_its_declaration(client, make_user, make_pair):
    pair = make_pair()
    headers = {"Authorization": f"Bearer {issue_token(make_user('staff').login)}"}
    url = f"/api/v1/pairs/{pair.id}/transitions"
    # the state machine refuses an unknown target itself, once it knows the caller may act
    unknown = client.post(url, json={"to": "flying"}, headers=headers)
    assert unknown.status_code == 400 and unknown.get_json()["message"] == "未知的目标状态：flying"
    shape = client.post(url, json={"to": 5, "version": "2", "meeting": []}, headers=headers)
    assert shape.status_code == 400 and shape.get_json()["errors"] == {
        "to": "须为字符串",
        "meeting": "须为对象：{starts_at, place, online_url}",
        "version": "须为整数",
    }
