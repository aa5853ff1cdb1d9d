"""卡脖子 challenges (揭榜挂帅): the screened bottleneck list, applications to solve a listed
problem, expert reviews, the chosen application's pair and the support granted; plus the
technology-transfer agencies behind the brokers and the registration of technology contracts
(技术合同认定登记).

May use: fairs, runs, pairs, listings, notifications, accounts, core.
Receives listing_withdrawn (a need leaving the platform leaves the list).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages' blueprint, the API routes and the signal receivers."""
    from matchmaker.challenges import api, receivers, views  # noqa: F401  (api: routes)

    app.register_blueprint(views.bp)
    receivers.connect()
