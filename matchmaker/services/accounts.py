"""Accounts: organizations, users, passwords, login throttling and API tokens."""

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import delete, func, select

from matchmaker.extensions import db
from matchmaker.models import ApiToken, Field, LoginAttempt, Organization, User, utcnow
from matchmaker.models.accounts import ORG_KINDS, ROLES
from matchmaker.services import Conflict, NotFound, ServiceError
from matchmaker.validators import credit_code_error

_DEFAULT_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
ROLE_ORG_KINDS = {
    "institute": ("university", "institute"),
    "enterprise": ("enterprise",),
    "broker": ("agency", "university", "institute", "enterprise"),
    "staff": ORG_KINDS,
}
MIN_PASSWORD = 8


def _hasher() -> PasswordHasher:
    # Tests configure a cheap argon2 cost (PASSWORD_HASH_PARAMS); production keeps the default.
    if has_app_context():
        params = current_app.config.get("PASSWORD_HASH_PARAMS")
        if params:
            return _hasher_for(tuple(sorted(params.items())))
    return _DEFAULT_HASHER


@lru_cache(maxsize=4)
def _hasher_for(params: tuple) -> PasswordHasher:
    return PasswordHasher(**dict(params))


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Check a password against its stored hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str, field: str = "password") -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"密码至少需要{MIN_PASSWORD}个字符", field=field)


def create_organization(
    name: str,
    kind: str,
    credit_code: str | None = None,
    region: str = "",
    status: str = "pending",
    **contact,
) -> Organization:
    """Add an organization after checking its kind, name and credit code."""
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = "请填写单位名称"
    elif db.session.scalar(select(Organization.id).where(Organization.name == name)):
        errors["name"] = "该单位名称已存在"
    if kind not in ORG_KINDS:
        errors["kind"] = "单位类型无效"
    if credit_code:
        credit_code = credit_code.strip().upper()
        problem = credit_code_error(credit_code)
        if problem:
            errors["credit_code"] = problem
        elif db.session.scalar(
            select(Organization.id).where(Organization.credit_code == credit_code)
        ):
            errors["credit_code"] = "该统一社会信用代码已被注册"
    if errors:
        raise ServiceError(next(iter(errors.values())), errors=errors)
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
) -> User:
    """Add a user with a hashed password; the caller commits."""
    login = login.strip()
    if not login:
        raise ServiceError("请填写登录名", field="login")
    if role not in ROLES:
        raise ServiceError(f"角色无效：{role}（可选：{', '.join(ROLES)}）", field="role")
    if db.session.scalar(select(User.id).where(func.lower(User.login) == login.lower())):
        raise Conflict("该登录名已被使用", field="login")
    check_password_strength(password)
    if role in ("institute", "enterprise") and organization is None:
        raise ServiceError("机构和企业用户必须属于一个单位", field="organization")
    user = User(
        login=login,
        password_hash=hash_password(password),
        role=role,
        organization=organization,
        display_name=display_name or login,
        email=email,
    )
    db.session.add(user)
    db.session.flush()
    return user


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


def register(form: dict) -> User:
    """Sign up a person, joining an approved organization or proposing a new one for review."""
    role = form.get("role", "")
    if role not in ("institute", "enterprise", "broker"):
        raise ServiceError("请选择注册身份", field="role")
    if form.get("password") != form.get("password2"):
        raise ServiceError("两次输入的密码不一致", field="password2")
    org = None
    if form.get("organization_id"):
        org = db.session.get(Organization, int(form["organization_id"]))
        if org is None or org.status != "approved":
            raise ServiceError("请选择已审核通过的单位", field="organization_id")
    elif form.get("org_name"):
        org = create_organization(
            form["org_name"],
            form.get("org_kind", ""),
            form.get("credit_code") or None,
            region=form.get("region", ""),
        )
    if org is not None and org.kind not in ROLE_ORG_KINDS[role]:
        raise ServiceError("所选单位类型与注册身份不符", field="organization_id")
    user = create_user(
        form.get("login", ""),
        form.get("password", ""),
        role,
        org,
        display_name=form.get("display_name", ""),
        email=form.get("email", ""),
    )
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


def login_blocked(login: str, remote_addr: str, max_failures: int, window_seconds: int) -> bool:
    """True when this login or address failed too often within the window."""
    since = utcnow() - timedelta(seconds=window_seconds)
    failures = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.at >= since,
            (func.lower(LoginAttempt.login) == login.lower())
            | (LoginAttempt.remote_addr == remote_addr),
        )
    )
    return failures >= max_failures


def authenticate(
    login: str, password: str, remote_addr: str, max_failures: int = 5, window_seconds: int = 900
) -> User:
    """Return the user for a correct login and password; count and throttle failures."""
    if login_blocked(login, remote_addr, max_failures, window_seconds):
        raise ServiceError("登录失败次数过多，请15分钟后再试", field="login")
    user = db.session.scalar(select(User).where(func.lower(User.login) == login.strip().lower()))
    if user is None or not user.is_active or not password_matches(user.password_hash, password):
        db.session.add(LoginAttempt(login=login[:60], remote_addr=remote_addr[:64]))
        db.session.commit()
        raise ServiceError("登录名或密码不正确", field="password")
    if user.organization is not None and user.organization.status == "rejected":
        raise ServiceError("所属单位未通过审核，无法登录", field="login")
    db.session.execute(
        delete(LoginAttempt).where(func.lower(LoginAttempt.login) == user.login.lower())
    )
    user.previous_seen_at, user.last_seen_at = user.last_seen_at, utcnow()
    db.session.commit()
    return user


def change_password(user_id: int, old: str, new: str, new2: str) -> None:
    """Change a password after checking the old one."""
    user = db.session.get(User, user_id)
    if user is None or not password_matches(user.password_hash, old):
        raise ServiceError("原密码不正确", field="old_password")
    if new != new2:
        raise ServiceError("两次输入的新密码不一致", field="new_password2")
    check_password_strength(new, field="new_password")
    user.password_hash = hash_password(new)
    db.session.commit()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(login: str) -> str:
    """Create an API token for a user and return it; only its hash is kept."""
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFound(f"用户不存在：{login}", field="login")
    token = "mm_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_digest(token), prefix=token[:10]))
    db.session.commit()
    return token


def revoke_tokens(login: str) -> int:
    """Revoke every live token of a user; return how many were revoked."""
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFound(f"用户不存在：{login}", field="login")
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
    db.session.commit()
    return len(tokens)


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, if it is live."""
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_digest(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.is_active:
        return None
    return row.user


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
