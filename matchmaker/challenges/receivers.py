"""Reactions to other domains' events: a need leaving the platform leaves the list too."""

from matchmaker.core.signals import listing_withdrawn


def on_listing_withdrawn(sender, listing_id: int, **_) -> None:
    if sender == "need":
        from matchmaker.challenges import bottlenecks

        bottlenecks.sync_with_needs()


def connect() -> None:
    # weak=False: the receiver is a module function that must live as long as the app.
    listing_withdrawn.connect(on_listing_withdrawn, weak=False)
