"""The dashboard's figures as an .xlsx workbook (the same numbers the page shows)."""

from matchmaker.core.exports import Sheet, write_sheets
from matchmaker.dashboard.figures import report

TOTAL_LABELS = (
    ("achievements", "科技成果（项）"),
    ("needs", "技术需求（项）"),
    ("bottleneck_needs", "其中“卡脖子”需求（项）"),
    ("institutions", "参与高校院所（家）"),
    ("companies", "参与企业（家）"),
    ("suggested", "系统推荐配对（对）"),
    ("recommended", "经纪人推荐（对）"),
    ("meetings_held", "对接会洽谈举行（场）"),
    ("met", "完成洽谈（对）"),
    ("intentions", "达成合作意向（对）"),
    ("contracts", "签订合同（项）"),
    ("contract_value", "合同金额（万元）"),
    ("agencies_active", "活跃技术转移机构（家）"),
    ("brokers_active", "活跃技术经纪人（人）"),
)

# The sheets after the totals: (title, key in the dashboard data, (column header, row key)).
BREAKDOWNS = (
    (
        "按领域",
        "by_field",
        (
            ("技术领域", "field"),
            ("科技成果", "achievements"),
            ("技术需求", "needs"),
            ("卡脖子需求", "bottleneck_needs"),
            ("签约", "contracts"),
        ),
    ),
    (
        "按单位类型",
        "by_kind",
        (
            ("单位类型", "kind"),
            ("参与单位", "organizations"),
            ("科技成果", "achievements"),
            ("技术需求", "needs"),
        ),
    ),
    (
        "按月份",
        "by_month",
        (
            ("月份", "month"),
            ("新增成果", "achievements"),
            ("新增需求", "needs"),
            ("洽谈", "met"),
            ("签约", "contracts"),
        ),
    ),
)


def dashboard_xlsx(fair_id: int | None = None) -> bytes:
    """Totals, by field, by organization kind and by month, one sheet each."""
    data = report(fair_id)
    scope = data["fair"].name if data["fair"] else "全平台"
    totals = data["totals"]
    wide = {"A": 26}
    sheets = [
        Sheet(
            "总览",
            ["指标", scope],
            [
                [label, float(totals[k]) if k == "contract_value" else totals[k]]
                for k, label in TOTAL_LABELS
                if k in totals
            ],
            widths=wide,
        ),
    ] + [
        Sheet(
            title,
            [h for h, _ in columns],
            [[r[k] for _, k in columns] for r in data[key]],
            widths=wide,
        )
        for title, key, columns in BREAKDOWNS
    ]
    return write_sheets(sheets, "xlsx")
