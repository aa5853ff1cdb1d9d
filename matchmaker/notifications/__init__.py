"""Notifications: in-app notifications, the e-mail outbox and its delivery, the record of sent
digests (what a digest says is the pairs' business: pairs/digests.py).

May use: accounts, core.
"""

from flask import Flask, g


def init_app(app: Flask) -> None:
    """Receive the notices that domains below this one send."""
    from matchmaker.core import signals
    from matchmaker.notifications import notify

    @app.before_request
    def _count_unread_afresh():
        # g outlives a request inside an app context that is already pushed (tests, CLI).
        g.pop("unread_notifications", None)

    # The header's unread count comes with the signed-in user's row (accounts/auth.load_user).
    app.extensions["user_load_columns"]["unread_notifications"] = notify.unread_count_of

    # weak=False: the receiver is a module function that must live as long as the app.
    signals.notice.connect(notify.on_notice, weak=False)
