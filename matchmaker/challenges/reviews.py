"""Expert reviews of a challenge application: scores per criterion, comments, the average."""

from matchmaker.challenges import inputs
from matchmaker.challenges.models import (
    REVIEW_CRITERIA,
    ChallengeApplication,
    ExpertReview,
)
from matchmaker.core.exceptions import Conflict, NotFound, ServiceError
from matchmaker.core.extensions import db


def application_in(application_id: int, status: str, refusal: str) -> ChallengeApplication:
    """The application, which must be in `status` for the step at hand."""
    application = db.session.get(ChallengeApplication, application_id)
    if application is None:
        raise NotFound("揭榜申请不存在")
    if application.status != status:
        raise Conflict(refusal)
    return application


def add_review(application_id: int, actor_id: int, raw: dict) -> ExpertReview:
    """Record one expert's scores (0-10 per criterion) and comments."""
    actor = inputs.staff(actor_id)
    application = application_in(application_id, "submitted", "该申请已有评审结果，不能再添加评分")
    errors: dict = {}
    expert = inputs.text(raw.get("expert_name"), "expert_name", errors, 60, required=True)
    comment = inputs.text(raw.get("comment"), "comment", errors, 2000)
    given = raw.get("scores") if isinstance(raw.get("scores"), dict) else {}
    scores = {}
    for n, criterion in enumerate(REVIEW_CRITERIA):
        value = given.get(criterion, raw.get(f"score_{n}"))
        try:
            number = float(str(value).strip())
        except (TypeError, ValueError):
            number = -1
        if not 0 <= number <= 10:
            errors[f"score_{n}"] = f"「{criterion}」的评分须为0到10之间的数字"
        else:
            scores[criterion] = round(number, 1)
    if errors:
        raise ServiceError("请检查专家评分", errors=errors)
    review = ExpertReview(
        application_id=application.id,
        expert_name=expert,
        scores=scores,
        total=round(sum(scores.values()), 1),
        comment=comment,
        recorded_by_id=actor.id,
    )
    db.session.add(review)
    db.session.commit()
    return review


def average_total(application: ChallengeApplication) -> float | None:
    if not application.reviews:
        return None
    return round(sum(r.total for r in application.reviews) / len(application.reviews), 1)
