"""What accounts accept, declared once: a new organization, a sign-up, a staff edit of a user.

Sign-up reports one problem at a time, in declaration order, as its page always did; the
organization and the staff edits report every field at once.
"""

import unicodedata
from typing import Any

from sqlalchemy import select

from matchmaker.accounts.models import ORG_KINDS, ROLES, Organization
from matchmaker.core.extensions import db
from matchmaker.core.paging import positive_int
from matchmaker.core.schemas import Schema, declare, fail
from matchmaker.core.validators import credit_code_error

MAX_LOGIN = 60
# Roles a person may choose when signing up; brokers and staff are appointed by staff.
SELF_SERVICE_ROLES = ("institute", "enterprise")
TEXT = {"type": "string"}


def clean_login(login: str) -> str:
    """A login as stored: NFKC (full-width letters become ASCII) without surrounding space."""
    return unicodedata.normalize("NFKC", login or "").strip()


def login_problem(login: str) -> str | None:
    """What is wrong with a cleaned login's shape, or None (uniqueness is the service's)."""
    if not login:
        return "请填写登录名"
    if len(login) > MAX_LOGIN:
        return f"登录名不能超过{MAX_LOGIN}个字符"
    return None


def _text(value, info) -> str:
    return value if isinstance(value, str) else ""


def _org_name(value, info) -> str:
    name = _text(value, info).strip()
    if not name:
        fail("请填写单位名称")
    if db.session.scalar(select(Organization.id).where(Organization.name == name)):
        fail("该单位名称已存在")
    return name


def _org_kind(value, info) -> str:
    if value not in ORG_KINDS:
        fail("单位类型无效")
    return value


def _credit_code(value, info) -> str | None:
    if not value:
        return None
    code = value.strip().upper()
    problem = credit_code_error(code)
    if problem:
        fail(problem)
    if db.session.scalar(select(Organization.id).where(Organization.credit_code == code)):
        fail("该统一社会信用代码已被注册")
    return code


class OrganizationInput(Schema):
    """A new organization, proposed at sign-up or created by a script."""

    name: declare(str, _org_name, {"type": "string", "minLength": 1}, default="")
    kind: declare(str, _org_kind, {"type": "string", "enum": list(ORG_KINDS)}, default="")
    credit_code: declare(
        str | None, _credit_code, {"type": "string", "minLength": 18, "maxLength": 18}, default=None
    )


def _self_service_role(value, info) -> str:
    if value not in SELF_SERVICE_ROLES:
        fail("请选择注册身份（技术经纪人由工作人员任命）")
    return value


def _password2(value, info) -> str:
    if value != info.data.get("password"):
        fail("两次输入的密码不一致")
    return value


def _approved_organization(value, info) -> Organization | None:
    if not value:
        return None
    text = value.strip() if isinstance(value, str) else ""
    org = db.session.get(Organization, int(text)) if text.isdigit() and len(text) < 10 else None
    if org is None or org.status != "approved":
        fail("请选择已审核通过的单位")
    return org


def _login(value, info) -> str:
    login = clean_login(_text(value, info))
    problem = login_problem(login)
    if problem:
        fail(problem)
    return login


class Registration(Schema):
    """A sign-up: join an approved organization (organization_id) or propose one (org_*)."""

    role: declare(str, _self_service_role, {"type": "string", "enum": list(SELF_SERVICE_ROLES)})
    password: declare(str, _text, TEXT, default="")
    password2: declare(str, _password2, TEXT, default="")
    organization_id: declare(Any, _approved_organization, {"type": "integer"}, default=None)
    org_name: declare(str, _text, TEXT, default="")
    org_kind: declare(str, _text, {"type": "string", "enum": list(ORG_KINDS)}, default="")
    credit_code: declare(str, _text, TEXT, default="")
    region: declare(str, _text, TEXT, default="")
    login: declare(str, _login, {"type": "string", "maxLength": MAX_LOGIN}, default="")
    display_name: declare(str, _text, TEXT, default="")
    email: declare(str, _text, TEXT, default="")


def _role(value, info) -> str | None:
    if value is None:
        return None
    if value not in ROLES:
        fail(f"角色无效：{value}")
    return value


def _active(value, info) -> bool | None:
    return None if value is None else value == "1"


def _field_ids(value, info) -> list[int] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return [i for i in map(positive_int, items) if i]


class UserEdit(Schema):
    """Staff's edits on the users page; each form sends one of them."""

    role: declare(str | None, _role, {"type": "string", "enum": list(ROLES)}, default=None)
    active: declare(bool | None, _active, {"type": "string", "enum": ["1", "0"]}, default=None)
    field_ids: declare(
        list[int] | None, _field_ids, {"type": "array", "items": {"type": "integer"}}, default=None
    )
