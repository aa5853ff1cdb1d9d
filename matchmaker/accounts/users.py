"""Accounts: organizations, users and their membership, passwords, sessions and API tokens.

Failed logins are throttled by the login view (Flask-Limiter, matchmaker.accounts.auth); this module
only says whether a login and password are right.
"""

from sqlalchemy import select

from matchmaker.accounts.hashing import (  # noqa: F401  (read through this module by callers)
    hash_password,
    password_matches,
    spend_a_password_check,
)
from matchmaker.accounts.lookup import find_user, login_key  # noqa: F401  (read through here)
from matchmaker.accounts.models import ORG_KINDS, ROLES, Field, Organization, User
from matchmaker.accounts.passwords import check_password
from matchmaker.accounts.schemas import (
    SELF_SERVICE_ROLES,
    OrganizationInput,
    Registration,
    UserEdit,
    clean_login,
    login_problem,
)
from matchmaker.accounts.tokens import (  # noqa: F401  (read through this module by callers)
    issue_token,
    revoke_tokens,
    user_for_token,
)
from matchmaker.core import signals
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.schemas import check

__all__ = [
    "hash_password",
    "issue_token",
    "password_matches",
    "revoke_tokens",
    "spend_a_password_check",
    "user_for_token",
]

ROLE_ORG_KINDS = {
    "institute": ("university", "institute"),
    "enterprise": ("enterprise",),
    "broker": ("agency", "university", "institute", "enterprise"),
    "staff": ORG_KINDS,
}


def create_organization(
    name: str,
    kind: str,
    credit_code: str | None = None,
    region: str = "",
    status: str = "pending",
    **contact,
) -> Organization:
    """Add an organization after checking its kind, name and credit code."""
    checked = check(OrganizationInput, {"name": name, "kind": kind, "credit_code": credit_code})
    if checked.errors:
        raise ServiceError(next(iter(checked.errors.values())), errors=checked.errors)
    name, credit_code = checked.values["name"], checked.values["credit_code"]
    org = Organization(
        name=name,
        kind=kind,
        credit_code=credit_code or None,
        region=region,
        status=status,
        **contact,
    )
    db.session.add(org)
    db.session.flush()
    return org


def create_user(
    login: str,
    password: str,
    role: str,
    organization: Organization | None = None,
    display_name: str = "",
    email: str = "",
    membership: str = "approved",
) -> User:
    """Add a user with a hashed password; the caller commits.

    An approved member of an organization that has no administrator yet becomes its
    administrator (the founder who registered it, or the first account a script creates).
    """
    login = clean_login(login)
    if problem := login_problem(login):
        raise ServiceError(problem, field="login")
    if role not in ROLES:
        raise ServiceError(f"角色无效：{role}（可选：{', '.join(ROLES)}）", field="role")
    if find_user(login) is not None:
        raise Conflict("该登录名已被使用", field="login")
    check_password(password, login)
    if role in ("institute", "enterprise") and organization is None:
        raise ServiceError("机构和企业用户必须属于一个单位", field="organization")
    user = User(
        login=login,
        password_hash=hash_password(password),
        role=role,
        organization=organization,
        display_name=display_name or login,
        email=email,
        membership=membership,
        is_org_admin=(
            organization is not None
            and membership == "approved"
            and _org_admins(organization.id) == []
        ),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _org_admins(org_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.organization_id == org_id,
                User.is_org_admin.is_(True),
                User.membership == "approved",
                User.is_active.is_(True),
            )
        )
    )


def create_user_cli(login: str, password: str, role: str, org_name: str | None) -> User:
    """Create a user for scripts, finding or creating the named organization (approved)."""
    org = None
    if org_name:
        org = db.session.scalar(select(Organization).where(Organization.name == org_name))
        if org is None:
            kind = {"institute": "institute", "enterprise": "enterprise"}.get(role, "agency")
            org = create_organization(org_name, kind, status="approved")
    user = create_user(login, password, role, org)
    db.session.commit()
    return user


def _refuse_first(errors: dict, until: str | None = None) -> None:
    """Raise the first problem declared before `until` (all of them without it)."""
    for key, message in errors.items():
        if key == until:
            return
        raise ServiceError(message, field=key)


def register(form: dict) -> User:
    """Sign up a person: asking to join an approved organization, or proposing a new one.

    Joining an existing organization waits for its administrator (or staff) to approve; the
    person who proposes a new organization administers it once staff approve it.
    """
    checked = check(Registration, form)
    _refuse_first(checked.errors, until="login")
    values = checked.values
    org, joining = values["organization_id"], values["organization_id"] is not None
    if org is None and values["org_name"]:
        org = create_organization(
            values["org_name"],
            values["org_kind"],
            values["credit_code"] or None,
            region=values["region"],
        )
    if org is not None and org.kind not in ROLE_ORG_KINDS[values["role"]]:
        raise ServiceError("所选单位类型与注册身份不符", field="organization_id")
    _refuse_first(checked.errors)
    user = create_user(
        values["login"],
        values["password"],
        values["role"],
        org,
        display_name=values["display_name"],
        email=values["email"],
        membership="pending" if joining else "approved",
    )
    if joining:
        _notify(
            _org_admins(org.id) or _staff(),
            "membership",
            f"{user.display_name}（{user.login}）申请加入「{org.name}」，请审核",
            "/auth/members",
        )
    db.session.commit()
    return user


def _staff() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.role == "staff", User.is_active.is_(True)))
    )


def _notify(users, kind: str, message: str, link: str = "") -> None:
    # notifications builds on accounts, so the in-app notice goes out as a signal it receives.
    signals.notice.send(kind, users=list(users), message=message, link=link)


def is_org_admin(actor: User) -> bool:
    return actor.is_org_admin and actor.is_member and actor.organization_id is not None


def may_review_members(actor: User, applicant: User | None = None) -> bool:
    """Staff review every applicant; an organization's administrator those of their own."""
    if actor.role == "staff":
        return True
    if applicant is None:
        return is_org_admin(actor)
    return is_org_admin(actor) and applicant.organization_id == actor.organization_id


def pending_members(actor: User) -> list[User]:
    """People waiting to join, for the reviewer: all of them for staff, their own org's else."""
    if not may_review_members(actor):
        raise Forbidden("只有单位管理员或工作人员可以审核加入申请")
    stmt = select(User).where(User.membership == "pending").order_by(User.created_at)
    if actor.role != "staff":
        stmt = stmt.where(User.organization_id == actor.organization_id)
    return list(db.session.scalars(stmt))


def review_member(user_id: int, approve: bool, actor: User) -> User:
    """Approve or reject a person's request to join their organization; tell them in-app."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    if not may_review_members(actor, user):
        raise Forbidden("只有该单位的管理员或工作人员可以审核此申请")
    if user.membership != "pending":
        raise Conflict("该用户没有待审核的加入申请", field="decision")
    org = user.organization
    if approve:
        user.membership = "approved"
        user.is_org_admin = _org_admins(org.id) == []
        message = f"您加入「{org.name}」的申请已通过审核"
    else:
        user.membership = "rejected"
        message = f"您加入「{org.name}」的申请未通过审核"
    user.session_version += 1  # what the account may do changed: sign in again
    _notify([user], "membership", message, "/")
    db.session.commit()
    return user


def approve_organization(org_id: int, approve: bool = True) -> Organization:
    """Staff decision on a newly registered organization."""
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound("单位不存在")
    org.status = "approved" if approve else "rejected"
    db.session.commit()
    return org


def authenticate(login: str, password: str) -> User:
    """Return the user for a correct login and password (throttling is the login view's job)."""
    user = find_user(login)
    if user is None:
        spend_a_password_check(password)
        raise ServiceError("登录名或密码不正确", field="password")
    if not password_matches(user.password_hash, password) or not user.is_active:
        raise ServiceError("登录名或密码不正确", field="password")
    if user.organization is not None and user.organization.status == "rejected":
        raise ServiceError("所属单位未通过审核，无法登录", field="login")
    if user.membership == "rejected":
        raise ServiceError("您加入单位的申请未通过审核，无法登录", field="login")
    user.previous_seen_at, user.last_seen_at = user.last_seen_at, utcnow()
    db.session.commit()
    return user


def end_sessions(user_id: int) -> User:
    """End every session and remember-cookie of a user (logout everywhere)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    user.session_version += 1
    db.session.commit()
    return user


def change_password(user_id: int, old: str, new: str, new2: str) -> User:
    """Change a password after checking the old one; every other session of the user ends."""
    user = db.session.get(User, user_id)
    if user is None or not password_matches(user.password_hash, old):
        raise ServiceError("原密码不正确", field="old_password")
    if new != new2:
        raise ServiceError("两次输入的新密码不一致", field="new_password2")
    check_password(new, user.login, field="new_password")
    user.password_hash = hash_password(new)
    user.session_version += 1
    db.session.commit()
    return user


def set_broker_fields(user_id: int, field_ids: list[int]) -> User:
    """Staff assign the technology fields a broker covers."""
    user = db.session.get(User, user_id)
    if user is None or user.role != "broker":
        raise NotFound("技术经纪人不存在")
    fields = list(db.session.scalars(select(Field).where(Field.id.in_(field_ids))))
    if len(fields) != len(set(field_ids)):
        raise ServiceError("所选领域不存在", field="field_ids")
    user.fields = fields
    db.session.commit()
    return user


def list_users(role: str | None = None, query: str = "") -> list[User]:
    """Users for the staff admin page, optionally of one role or matching a login/name/org."""
    stmt = select(User).outerjoin(User.organization).order_by(User.role, User.login)
    if role:
        stmt = stmt.where(User.role == role)
    if query := query.strip():
        like = f"%{query}%"
        stmt = stmt.where(
            User.login.ilike(like) | User.display_name.ilike(like) | Organization.name.ilike(like)
        )
    return list(db.session.scalars(stmt))


def set_user_active(user_id: int, active: bool, actor_id: int) -> User:
    """Staff deactivate or reactivate an account (deactivated: no sign-in, no API tokens)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    if user.id == actor_id and not active:
        raise ServiceError("不能停用自己的账号", field="active")
    user.is_active = active
    db.session.commit()
    return user


def set_role(user_id: int, role: str, actor_id: int) -> User:
    """Staff appoint a role (a broker, say); institute and enterprise need a matching org."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    if problem := check(UserEdit, {"role": role}).errors.get("role"):
        raise ServiceError(problem, field="role")
    if user.id == actor_id:
        raise ServiceError("不能修改自己的角色", field="role")
    org = user.organization
    if role in SELF_SERVICE_ROLES and (org is None or org.kind not in ROLE_ORG_KINDS[role]):
        raise ServiceError("该用户所属单位的类型与所选角色不符", field="role")
    user.role = role
    db.session.commit()
    return user
