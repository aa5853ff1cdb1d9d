"""Technology-transfer agencies (技术转移示范机构) and the brokers they train and certify."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matchmaker.accounts.models import Organization, User
from matchmaker.challenges import inputs
from matchmaker.challenges.models import (
    AGENCY_LEVELS,
    AgencyProfile,
    BrokerProfile,
    BrokerTraining,
    CertificationTarget,
)
from matchmaker.core.exceptions import NotFound, ServiceError
from matchmaker.core.extensions import db


def _staff(actor_id: int) -> User:
    return inputs.staff(actor_id, "只有工作人员可以管理技术转移机构和经纪人")


def agencies() -> list[tuple[Organization, AgencyProfile | None]]:
    """Every organization of the agency kind with its recognition, by level then name."""
    rows = db.session.execute(
        select(Organization, AgencyProfile)
        .outerjoin(AgencyProfile, AgencyProfile.organization_id == Organization.id)
        .where(Organization.kind == "agency", Organization.status == "approved")
        .order_by(Organization.name)
    ).all()
    order = list(AGENCY_LEVELS)
    return sorted(
        ((org, profile) for org, profile in rows),
        key=lambda r: (order.index(r[1].level) if r[1] else len(order), r[0].name),
    )


def set_agency(org_id: int, actor_id: int, level: str, recognized_on) -> AgencyProfile:
    """Record an agency's demonstration level and recognition date."""
    _staff(actor_id)
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound("单位不存在")
    if org.kind != "agency":
        raise ServiceError("只有技术转移服务机构可以设置示范级别", field="organization_id")
    errors: dict = {}
    if level not in AGENCY_LEVELS:
        errors["level"] = "级别须为：" + "、".join(AGENCY_LEVELS.values())
    day = inputs.day(recognized_on, "recognized_on", errors, required=False)
    if day and day > date.today():
        errors["recognized_on"] = "认定日期不能晚于今天"
    if errors:
        raise ServiceError("请检查机构信息", errors=errors)
    profile = db.session.get(AgencyProfile, org.id) or AgencyProfile(organization_id=org.id)
    profile.level, profile.recognized_on = level, day
    db.session.add(profile)
    db.session.commit()
    return profile


def brokers() -> list[tuple[User, BrokerProfile | None]]:
    return list(
        db.session.execute(
            select(User, BrokerProfile)
            .outerjoin(BrokerProfile, BrokerProfile.user_id == User.id)
            .where(User.role == "broker")
            .order_by(User.display_name, User.login)
        ).all()
    )


def broker(user_id: int) -> tuple[User, BrokerProfile | None, list[BrokerTraining]]:
    user = db.session.get(User, user_id)
    if user is None or user.role != "broker":
        raise NotFound("技术经纪人不存在")
    return user, db.session.get(BrokerProfile, user.id), trainings(user.id)


def trainings(user_id: int) -> list[BrokerTraining]:
    return list(
        db.session.scalars(
            select(BrokerTraining)
            .where(BrokerTraining.user_id == user_id)
            .order_by(BrokerTraining.taken_on.desc(), BrokerTraining.id.desc())
        )
    )


def set_broker(user_id: int, actor_id: int, raw: dict) -> BrokerProfile:
    """Set a broker's agency, certificate number and certification date."""
    _staff(actor_id)
    user, profile, _ = broker(user_id)
    errors: dict = {}
    agency_id = inputs.ids([raw.get("agency_id")])
    agency = db.session.get(Organization, agency_id[0]) if agency_id else None
    if agency_id and (agency is None or agency.kind != "agency"):
        errors["agency_id"] = "请选择技术转移服务机构"
    certificate = inputs.text(raw.get("certificate_no"), "certificate_no", errors, 40) or None
    certified = inputs.day(
        raw.get("certified_on"), "certified_on", errors, required=bool(certificate)
    )
    if certified and certified > date.today():
        errors["certified_on"] = "发证日期不能晚于今天"
    if certified and not certificate:
        errors["certificate_no"] = "填写发证日期时请填写证书编号"
    if errors:
        raise ServiceError("请检查经纪人信息", errors=errors)
    profile = profile or BrokerProfile(user_id=user.id)
    profile.agency_id = agency.id if agency else None
    profile.certificate_no, profile.certified_on = certificate, certified
    db.session.add(profile)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("该证书编号已被其他经纪人使用", field="certificate_no") from None
    return profile


def add_training(user_id: int, actor_id: int, raw: dict) -> BrokerTraining:
    _staff(actor_id)
    user, _profile, _ = broker(user_id)
    errors: dict = {}
    course = inputs.text(raw.get("course"), "course", errors, 120, required=True)
    try:
        hours = float(str(raw.get("hours", "")).strip())
        if not 0 < hours <= 1000:
            raise ValueError
    except ValueError:
        errors["hours"] = "学时须为大于0且不超过1000的数字"
        hours = None
    taken = inputs.day(raw.get("taken_on"), "taken_on", errors)
    if taken and taken > date.today():
        errors["taken_on"] = "培训日期不能晚于今天"
    if errors:
        raise ServiceError("请检查培训记录", errors=errors)
    row = BrokerTraining(user_id=user.id, course=course, hours=round(hours, 1), taken_on=taken)
    db.session.add(row)
    db.session.commit()
    return row


def target(year: int) -> int | None:
    row = db.session.get(CertificationTarget, year)
    return row.target if row else None


def set_target(actor_id: int, year, value) -> CertificationTarget:
    _staff(actor_id)
    try:
        year, value = int(year), int(value)
        if not 2000 <= year <= 2100 or not 0 <= value <= 100000:
            raise ValueError
    except (TypeError, ValueError):
        raise ServiceError("年份或目标人数有误", field="target") from None
    row = db.session.get(CertificationTarget, year) or CertificationTarget(year=year)
    row.target = value
    db.session.add(row)
    db.session.commit()
    return row


def agency_of_broker(user_id: int) -> Organization | None:
    profile = db.session.get(BrokerProfile, user_id)
    return profile.agency if profile else None
