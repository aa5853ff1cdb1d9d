"""Bulk import of listings from the documented template, and exports of listings and suggestions.

An import is checked whole first: every bad row is reported with its column and reason, and
duplicates of existing listings (same organization and title, or same external ref) are flagged.
Nothing is written until the file is clean, unless the caller asks to import only the good rows.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from matchmaker.accounts.models import Organization, User
from matchmaker.core import signals
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings.files import read_rows, write_table
from matchmaker.listings.forms import check_listing
from matchmaker.listings.models import MATURITY_TRL
from matchmaker.listings.posting import STATUS_LABELS, Kind, _record, kind_of, poster_organization

COLUMNS = {
    "achievement": (
        ("external_ref", "外部编号"),
        ("title", "标题"),
        ("fields", "技术领域"),
        ("keywords", "关键词"),
        ("summary", "成果简介"),
        ("description", "详细介绍"),
        ("maturity", "成熟度"),
        ("transfer_modes", "转化方式"),
        ("patents", "专利号"),
        ("price_min", "价格下限（万元）"),
        ("price_max", "价格上限（万元）"),
        ("contact_name", "联系人"),
        ("contact_phone", "联系电话"),
        ("organization", "发布单位"),
    ),
    "need": (
        ("external_ref", "外部编号"),
        ("title", "标题"),
        ("fields", "技术领域"),
        ("keywords", "关键词"),
        ("description", "需求描述"),
        ("budget_min", "预算下限（万元）"),
        ("budget_max", "预算上限（万元）"),
        ("deadline", "截止日期"),
        ("cooperation_modes", "合作方式"),
        ("is_bottleneck", "是否卡脖子"),
        ("contact_name", "联系人"),
        ("contact_phone", "联系电话"),
        ("organization", "发布单位"),
    ),
}
REQUIRED = ("title", "fields", "description")
NOTES = {
    "title": "必填，4–200字",
    "fields": "必填，1–5个，用顿号分隔，取自平台技术领域列表",
    "keywords": "选填，最多10个，用顿号分隔",
    "maturity": "研发、小试、中试、批量生产、产业化 之一",
    "transfer_modes": "转让、许可、作价入股、合作开发、技术服务，可多选，用顿号分隔",
    "cooperation_modes": "转让、许可、作价入股、合作开发、技术服务，可多选，用顿号分隔",
    "patents": "如 CN201810123456.7，多个用顿号分隔",
    "price_min": "数字，单位万元，不小于0",
    "budget_min": "数字，单位万元，不小于0",
    "deadline": "YYYY-MM-DD，须晚于今天",
    "is_bottleneck": "是 / 否",
    "organization": "工作人员导入时必填（已审核单位的全称）；单位用户导入时留空",
    "description": "必填，至少10字",
}
IMPORT_STATUSES = ("draft", "pending", "published")


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    good: list = field(default_factory=list)  # (row number, values, organization id)
    problems: list = field(default_factory=list)  # (row number, column label, reason)

    @property
    def bad_rows(self) -> int:
        return len({p[0] for p in self.problems if p[0]})

    @property
    def clean(self) -> bool:
        return not self.problems


def template(kind_name: str, fmt: str) -> bytes:
    """The import template: header row, one example row and a row of notes."""
    kind = kind_of(kind_name)
    cols = COLUMNS[kind.name]
    example = {
        "achievement": {
            "external_ref": "A-2026-001",
            "title": "高精度协作机器人关节模组",
            "fields": "机器人与智能制造",
            "keywords": "协作机器人、关节模组、力控",
            "summary": "七自由度协作机器人关节模组",
            "description": "集成力矩传感器与谐波减速器的一体化关节，重复定位精度±0.02mm。",
            "maturity": "中试",
            "transfer_modes": "许可、合作开发",
            "patents": "CN201810123456.7",
            "price_min": "50",
            "price_max": "120",
            "contact_name": "赵老师",
            "contact_phone": "024-12345678",
        },
        "need": {
            "external_ref": "N-2026-001",
            "title": "焊缝表面缺陷在线视觉检测",
            "fields": "机器人与智能制造",
            "keywords": "视觉检测、焊缝",
            "description": "需要在线检测焊缝表面气孔、咬边等缺陷，单件节拍不超过2秒。",
            "budget_min": "20",
            "budget_max": "50",
            "deadline": date(date.today().year + 1, 6, 30).isoformat(),
            "cooperation_modes": "合作开发",
            "is_bottleneck": "否",
            "contact_name": "陈工",
            "contact_phone": "13800000000",
        },
    }[kind.name]
    header = [label + ("*" if key in REQUIRED else "") for key, label in cols]
    rows = [
        [example.get(key, "") for key, _ in cols],
        [
            "说明：" + NOTES.get(key, "选填") if i == 0 else NOTES.get(key, "选填")
            for i, (key, _) in enumerate(cols)
        ],
    ]
    return write_table(header, rows, fmt, title=f"{kind.label}导入模板")


def _header_map(kind: Kind, header: list[str]) -> dict[int, str]:
    names = {}
    for key, label in COLUMNS[kind.name]:
        names[label] = key
        names[key] = key
    mapping = {}
    for index, cell in enumerate(header):
        key = names.get(cell.strip().rstrip("*").strip())
        if key:
            mapping[index] = key
    missing = [
        label
        for key, label in COLUMNS[kind.name]
        if key in REQUIRED and key not in mapping.values()
    ]
    if missing:
        raise ServiceError(
            f"表头缺少必填列：{'、'.join(missing)}。请下载并使用平台提供的模板。", field="file"
        )
    return mapping


def check_file(kind_name: str, user_id: int, filename: str, data: bytes) -> ImportReport:
    """Read and check an upload without writing anything."""
    kind = kind_of(kind_name)
    user = db.session.get(User, user_id)
    if user is None or (user.role != "staff" and user.role != kind.role):
        raise Forbidden(f"当前角色不能导入{kind.label}")
    own_org = None if user.role == "staff" else poster_organization(user, kind)
    rows = read_rows(filename, data)
    header = next(rows, None)
    if header is None:
        raise ServiceError("文件中没有内容，请使用平台提供的模板", field="file")
    mapping = _header_map(kind, header)
    labels = dict(COLUMNS[kind.name])
    report = ImportReport(kind.name)
    seen_refs, seen_titles = {}, {}
    today = date.today()
    for number, row in enumerate(rows, start=2):
        raw = {key: row[i] if i < len(row) else "" for i, key in mapping.items()}
        if row and row[0].startswith("说明："):
            continue  # the template's notes row
        report.rows += 1
        problems = []
        org = _row_org(kind, user, own_org, raw.get("organization", ""), problems)
        checked = check_listing(kind.name, raw, complete=True, today=today)
        problems += [(labels.get(k, k), msg) for k, msg in checked.errors.items()]
        values = checked.values
        ref = values.get("external_ref") or None
        title = values.get("title")
        if ref:
            if ref in seen_refs:
                problems.append((labels["external_ref"], f"与第{seen_refs[ref]}行的外部编号重复"))
            seen_refs.setdefault(ref, number)
            existing = db.session.scalar(
                select(kind.model.id).where(kind.model.external_ref == ref)
            )
            if existing:
                problems.append(
                    (labels["external_ref"], f"与已有{kind.label}（编号{existing}）的外部编号重复")
                )
        if org is not None and title:
            key = (org.id, title)
            if key in seen_titles:
                problems.append(
                    (labels["title"], f"与第{seen_titles[key]}行重复（同一单位、同一标题）")
                )
            seen_titles.setdefault(key, number)
            existing = db.session.scalar(
                select(kind.model.id).where(
                    kind.model.organization_id == org.id,
                    func.lower(kind.model.title) == title.lower(),
                    kind.model.status != "closed",
                )
            )
            if existing:
                problems.append(
                    (
                        labels["title"],
                        f"与已有{kind.label}（编号{existing}）重复：同一单位、同一标题",
                    )
                )
        if problems:
            report.problems += [(number, col, msg) for col, msg in problems]
        else:
            values["external_ref"] = ref
            report.good.append((number, values, org.id))
    if report.rows == 0:
        raise ServiceError("文件中没有数据行（只有表头）", field="file")
    return report


def _row_org(kind: Kind, user: User, own_org, name: str, problems: list):
    if own_org is not None:
        if name and name != own_org.name:
            problems.append(("发布单位", f"只能导入本单位（{own_org.name}）的{kind.label}"))
            return None
        return own_org
    if not name:
        problems.append(("发布单位", "请填写发布单位全称"))
        return None
    org = db.session.scalar(select(Organization).where(Organization.name == name))
    if org is None or org.status != "approved":
        problems.append(("发布单位", f"单位不存在或未通过审核：{name[:60]}"))
        return None
    if org.kind not in kind.org_kinds:
        problems.append(("发布单位", f"该单位类型不能发布{kind.label}"))
        return None
    return org


def import_file(
    kind_name: str,
    user_id: int,
    filename: str,
    data: bytes,
    status: str = "pending",
    only_good: bool = False,
) -> tuple[ImportReport, list[int]]:
    """Check an upload and, if clean (or only good rows wanted), create its listings."""
    kind = kind_of(kind_name)
    user = db.session.get(User, user_id)
    report = check_file(kind.name, user_id, filename, data)
    if status not in IMPORT_STATUSES or (status == "published" and user.role != "staff"):
        raise ServiceError("导入后的状态无效", field="status")
    if not report.clean and not only_good:
        raise ServiceError(
            f"文件中有 {report.bad_rows} 行有问题，未导入任何数据；"
            "请修改后重新上传，或选择只导入无误的行",
            field="file",
        )
    now = utcnow()
    listings = []
    for _number, values, org_id in report.good:
        listing = kind.model(organization_id=org_id, status=status, revision=1, **values)
        if kind.name == "achievement":
            listing.trl = (
                MATURITY_TRL.get(values.get("maturity")) if values.get("maturity") else None
            )
        if status in ("pending", "published"):
            listing.submitted_at = now
        if status == "published":
            listing.published_at = now
        listings.append(listing)
    db.session.add_all(listings)
    db.session.flush()
    for listing in listings:
        _record(kind, listing, "imported", None, user, f"导入文件：{filename[:100]}")
    created = [listing.id for listing in listings]
    db.session.commit()
    if status == "published":
        for listing_id in created:
            signals.listing_published.send(kind.name, listing_id=listing_id)
    return report, created


def export_listings(kind_name: str, rows, fmt: str, viewer=None) -> bytes:
    """Listings in the import layout plus id, status and dates; what `viewer` (a
    confidential.Viewer) may not see is written as 保密."""
    kind = kind_of(kind_name)
    cols = COLUMNS[kind.name]
    header = ["编号"] + [label for _, label in cols] + ["状态", "发布时间"]
    table = []
    for row in rows:
        values = []
        hidden = viewer.hidden_keys(row) if viewer is not None else set()
        for key, _ in cols:
            if key in hidden:
                values.append("保密")
            elif key == "fields":
                values.append([f.name for f in row.fields])
            elif key == "organization":
                org_hidden = viewer is not None and viewer.organization_hidden(row)
                values.append("未公开" if org_hidden else row.organization.name)
            else:
                values.append(getattr(row, key))
        table.append([row.id] + values + [STATUS_LABELS[row.status], row.published_at])
    return write_table(header, table, fmt, title=kind.label)


def suggestions_for_export(user: User, kind_name: str | None = None, listing_id=None, limit=5000):
    """Active suggestions the user may export: staff all, brokers their fields', owners theirs."""
    from matchmaker.core.listing_pairs import listing_pairs
    from matchmaker.listings.posting import can_see_suggestions, get_visible

    if kind_name and listing_id:
        kind = kind_of(kind_name)
        listing = get_visible(kind.name, listing_id, user)
        if not can_see_suggestions(user, kind, listing):
            raise Forbidden("无权导出该信息的匹配建议")
        return listing_pairs().exportable(user, kind.name, listing.id, limit)
    if user.role not in ("staff", "broker"):
        raise Forbidden("只有工作人员和技术经纪人可以导出全部匹配建议")
    return listing_pairs().exportable(user, None, None, limit)


def export_suggestions(rows, fmt: str) -> bytes:
    header = [
        "建议编号",
        "需求编号",
        "需求标题",
        "需求单位",
        "成果编号",
        "成果标题",
        "成果单位",
        "匹配度",
        "共同关键词",
        "同领域",
        "状态",
    ]
    table = [
        [
            s.id,
            s.need_id,
            s.need.title,
            s.need.organization.name,
            s.achievement_id,
            s.achievement.title,
            s.achievement.organization.name,
            round(s.score, 4),
            [t[0] if isinstance(t, (list, tuple)) else str(t) for t in (s.terms or [])],
            s.same_field,
            s.state,
        ]
        for s in rows
    ]
    return write_table(header, table, fmt, title="匹配建议")
