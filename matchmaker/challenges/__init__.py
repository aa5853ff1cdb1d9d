"""卡脖子 challenges (揭榜挂帅): the screened bottleneck list, applications to solve a listed
problem, expert reviews, the chosen application's pair and the support granted; plus the
technology-transfer agencies behind the brokers and the registration of technology contracts
(技术合同认定登记).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages' blueprint and the signal receivers."""
    from matchmaker.challenges import receivers, views

    app.register_blueprint(views.bp)
    receivers.connect()
