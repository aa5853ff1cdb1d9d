"""Helpers for the matching-job tests: a recording queue and small Chinese listings."""

from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import incremental as matching_incremental

ACHIEVEMENT_TEXTS = [
    (
        "碳化硅功率器件封装技术",
        "面向新能源汽车的碳化硅功率模块封装与散热设计，降低热阻。",
        ["碳化硅", "功率器件"],
    ),
    (
        "锂电池正极材料制备工艺",
        "高镍三元正极材料的共沉淀制备与包覆改性，提升循环寿命。",
        ["锂电池", "正极材料"],
    ),
    (
        "工业机器人视觉定位系统",
        "基于深度学习的机器人视觉定位与抓取，适用于柔性装配产线。",
        ["机器人", "视觉定位"],
    ),
    ("水稻抗病育种分子标记", "利用分子标记辅助选择培育抗稻瘟病水稻新品种。", ["水稻", "育种"]),
    (
        "污水处理膜生物反应器",
        "膜生物反应器处理工业废水，出水稳定达标，能耗低。",
        ["污水处理", "膜"],
    ),
    (
        "光刻胶国产化配方",
        "半导体光刻胶树脂与光敏剂配方，分辨率达到深紫外要求。",
        ["光刻胶", "半导体"],
    ),
]
NEED_TEXTS = [
    (
        "新能源汽车功率模块散热难题",
        "我公司生产电机控制器，碳化硅功率模块散热不佳，寻求封装散热方案。",
        ["散热", "碳化硅"],
    ),
    ("动力电池循环寿命提升", "需要提升三元锂电池正极材料的循环寿命和安全性。", ["锂电池"]),
    ("装配线机器人视觉抓取", "柔性装配产线需要机器人视觉定位抓取系统。", ["机器人"]),
    ("工业废水达标处理", "化工园区工业废水处理需要低能耗的膜处理工艺。", ["废水"]),
    ("深紫外光刻胶替代进口", "卡脖子：深紫外光刻胶依赖进口，寻求国产化配方合作。", ["光刻胶"]),
    ("抗病水稻品种推广", "合作社希望引进抗稻瘟病的水稻新品种。", ["水稻"]),
]


class RecordingQueue:
    """Stands in for the broker in unit tests: records sends, then runs them in-process."""

    def __init__(self):
        self.sent = []

    def __call__(self, task, *args):
        self.sent.append((task, *args))

    def drain(self, order=None):
        ran = 0
        while self.sent:
            batch, self.sent = self.sent, []
            if order == "reverse":
                batch.reverse()
            for task, *args in batch:
                run_task(task, *args)
                ran += 1
        return ran


def run_task(task, *args):
    return {
        "plan_run": matching_runs.plan_run,
        "run_chunk": matching_runs.run_chunk,
        "match_listing": matching_incremental.match_listing,
        "reconcile": lambda: matching_runs.reconcile(),
    }[task](*args)


def seed_listings(make_achievement, make_need, make_org, n_repeat=1, fields=("机器人与智能制造",)):
    """Publish the small corpus (optionally repeated) with one org per listing."""
    achievements, needs = [], []
    for r in range(n_repeat):
        for i, (title, desc, kw) in enumerate(ACHIEVEMENT_TEXTS):
            achievements.append(
                make_achievement(
                    title=f"{title}{'' if r == 0 else r}",
                    description=desc,
                    keywords=kw,
                    fields=[fields[i % len(fields)]],
                    external_ref=f"A-{r}-{i}",
                )
            )
        for i, (title, desc, kw) in enumerate(NEED_TEXTS):
            needs.append(
                make_need(
                    title=f"{title}{'' if r == 0 else r}",
                    description=desc,
                    keywords=kw,
                    fields=[fields[i % len(fields)]],
                    external_ref=f"N-{r}-{i}",
                )
            )
    return achievements, needs
