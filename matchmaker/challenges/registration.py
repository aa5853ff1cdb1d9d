"""技术合同认定登记: registering a contract recorded on a pair, and the registration sheet."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matchmaker.accounts.models import User
from matchmaker.challenges import inputs
from matchmaker.challenges.models import ContractRegistration
from matchmaker.core.exceptions import Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.validators import credit_code_error
from matchmaker.pairs.access import covers
from matchmaker.pairs.models import Contract

# Transfers and licences also report the investment and output they are expected to bring.
TRANSFER_TYPES = ("技术转让", "技术许可")
MAX_ITEMS = 20
SHEET_COLUMNS = (
    "登记编号", "合同类型", "卖方（技术方）", "卖方信用代码", "卖方地区", "买方（需求方）",
    "买方信用代码", "买方地区", "签订日期", "有效期起", "有效期止", "合同总金额（万元）",
    "非技术性费用（万元）", "技术交易额（万元）", "预计新增投资（万元）", "预计新增产值（万元）",
    "登记日期", "配对编号",
)  # fmt: skip


def _contract_for(contract_id: int, actor_id: int) -> tuple[Contract, User]:
    actor = db.session.get(User, actor_id) if actor_id else None
    contract = db.session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("合同不存在")
    if actor is None or not actor.is_active:
        raise Forbidden("请先登录")
    if actor.role == "staff" or (actor.role == "broker" and covers(actor, contract.suggestion)):
        return contract, actor
    raise Forbidden("只有工作人员或负责该配对的技术经纪人可以登记合同")


def defaults(contract: Contract) -> dict:
    """The form's starting values, taken from the pair's organizations and the contract."""
    pair = contract.suggestion
    seller, buyer = pair.achievement.organization, pair.need.organization
    return {
        "seller_name": seller.name,
        "seller_credit_code": seller.credit_code or "",
        "seller_region": seller.region,
        "buyer_name": buyer.name,
        "buyer_credit_code": buyer.credit_code or "",
        "buyer_region": buyer.region,
        "term_start": contract.signed_on.isoformat(),
        "total_amount": str(contract.amount),
        "registered_on": date.today().isoformat(),
    }


def _items(raw, errors: dict) -> list[dict]:
    """Non-technical costs as [{"item","amount"}] or lines '设备费 12.5'."""
    if isinstance(raw, str):
        rows = []
        for line in raw.splitlines():
            if line.strip():
                name, _, value = line.strip().rpartition(" ")
                rows.append({"item": name.strip(), "amount": value})
    else:
        rows = [r if isinstance(r, dict) else {} for r in raw or []]
    if len(rows) > MAX_ITEMS:
        errors["non_technical"] = f"非技术性费用不能超过{MAX_ITEMS}项"
        return []
    out = []
    for n, row in enumerate(rows, 1):
        amount = inputs.amount(row.get("amount"), "non_technical", {}, required=True)
        name = str(row.get("item") or "").strip()
        if amount is None or not name or len(name) > 60:
            errors["non_technical"] = f"第{n}项应为「费用名称 金额（万元）」"
            return []
        out.append({"item": name, "amount": str(amount)})
    return out


def register(contract_id: int, actor_id: int, raw: dict) -> ContractRegistration:
    """Record (or correct) the registration of a contract; 技术交易额 = total less the items."""
    contract, actor = _contract_for(contract_id, actor_id)
    errors: dict = {}
    values = {
        "registration_no": inputs.text(raw.get("registration_no"), "registration_no", errors, 40)
        or None
    }
    for side in ("seller", "buyer"):
        values[f"{side}_name"] = inputs.text(
            raw.get(f"{side}_name"), f"{side}_name", errors, 120, required=True
        )
        code = inputs.text(raw.get(f"{side}_credit_code"), f"{side}_credit_code", errors, 18)
        if code and credit_code_error(code):
            errors[f"{side}_credit_code"] = credit_code_error(code)
        values[f"{side}_credit_code"] = code
        values[f"{side}_region"] = inputs.text(
            raw.get(f"{side}_region"), f"{side}_region", errors, 60, required=True
        )
    values["term_start"] = inputs.day(raw.get("term_start"), "term_start", errors)
    values["term_end"] = inputs.day(raw.get("term_end"), "term_end", errors, required=False)
    if values["term_start"] and values["term_end"] and values["term_end"] < values["term_start"]:
        errors["term_end"] = "有效期止不能早于有效期起"
    total = inputs.amount(raw.get("total_amount"), "total_amount", errors)
    items = _items(raw.get("non_technical"), errors)
    non_technical = sum((Decimal(i["amount"]) for i in items), start=Decimal("0"))
    if total is not None and non_technical > total:
        errors["non_technical"] = "非技术性费用之和不能超过合同总金额"
    transfer = contract.contract_type in TRANSFER_TYPES
    for name in ("expected_investment", "expected_output"):
        values[name] = inputs.amount(raw.get(name), name, errors, required=False)
        if values[name] is not None and not transfer:
            errors[name] = "只有技术转让、技术许可合同填写预计新增投资和产值"
    values["registered_on"] = inputs.day(raw.get("registered_on"), "registered_on", errors)
    if values["registered_on"] and values["registered_on"] > date.today():
        errors["registered_on"] = "登记日期不能晚于今天"
    if errors:
        raise ServiceError("请检查合同登记信息", errors=errors)
    row = db.session.scalar(
        select(ContractRegistration).where(ContractRegistration.contract_id == contract.id)
    ) or ContractRegistration(contract_id=contract.id)
    for key, value in values.items():
        setattr(row, key, value)
    row.total_amount, row.non_technical = total, items
    row.technical_amount = total - non_technical
    row.registered_by_id = actor.id
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("该登记编号已被使用", field="registration_no") from None
    return row


def for_contract(contract_id: int) -> ContractRegistration | None:
    return db.session.scalar(
        select(ContractRegistration).where(ContractRegistration.contract_id == contract_id)
    )


def in_period(start: date | None, end: date | None) -> list[ContractRegistration]:
    query = select(ContractRegistration).order_by(
        ContractRegistration.registered_on, ContractRegistration.id
    )
    if start:
        query = query.where(ContractRegistration.registered_on >= start)
    if end:
        query = query.where(ContractRegistration.registered_on <= end)
    return list(db.session.scalars(query))


def sheet_row(row: ContractRegistration) -> list:
    contract = row.contract
    non_technical = sum((Decimal(i["amount"]) for i in row.non_technical), start=Decimal("0"))
    return [
        row.registration_no or "",
        contract.contract_type,
        row.seller_name,
        row.seller_credit_code,
        row.seller_region,
        row.buyer_name,
        row.buyer_credit_code,
        row.buyer_region,
        contract.signed_on,
        row.term_start,
        row.term_end,
        float(row.total_amount),
        float(non_technical),
        float(row.technical_amount),
        float(row.expected_investment) if row.expected_investment is not None else None,
        float(row.expected_output) if row.expected_output is not None else None,
        row.registered_on,
        contract.suggestion_id,
    ]
