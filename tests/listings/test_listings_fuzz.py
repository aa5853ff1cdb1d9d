"""Property-based fuzzing of the documented API (schemathesis): no input makes it answer 500."""

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from matchmaker.accounts.users import issue_token  # noqa: E402

EXAMPLES = 10


def _fuzz(operation, headers, mode, path_parameters=None):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.query} {case.body!r} -> "
            f"{response.status_code} {response.text[:300]}"
        )

    run()


@pytest.mark.slow
def test_fuzzed_listing_api_never_answers_500(app, make_user, make_achievement, make_need):
    staff = make_user("staff")
    company = make_user("enterprise")
    achievement = make_achievement(title="协作机器人关节模组", status="pending")
    need = make_need(title="焊缝视觉检测", organization=company.organization, status="draft")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tokens = {"staff": issue_token(staff.login), "enterprise": issue_token(company.login)}
    operations = [result.ok() for result in schema.get_all_operations()]
    listing_ops = [op for op in operations if "/achievements" in op.path or "/needs" in op.path]
    assert len(listing_ops) == 20
    for op in operations:
        for token in tokens.values():
            headers = {"Authorization": f"Bearer {token}"}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(op, headers, mode)
            if "{listing_id}" in op.path:
                listing_id = achievement.id if "/achievements" in op.path else need.id
                _fuzz(op, headers, GenerationMode.POSITIVE, {"listing_id": listing_id})
