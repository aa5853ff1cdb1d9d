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
    # api, agency_views and registration_views add their routes to blueprints when imported.
    from matchmaker.challenges import (  # noqa: F401
        agency_views,
        api,
        receivers,
        registration_views,
        views,
    )

    app.register_blueprint(views.bp)
    receivers.connect()
