"""The pairs a listing is in, read through hooks that the pairs domain registers.

Listings come before pairs and may not import it, yet listing pages and exports show a listing's
pairs and let a pair's party see more of a listing. `pairs.init_app` registers the readers here
(on the app, like any extension); listings call them without knowing where they live.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app


@dataclass(frozen=True)
class ListingPairs:
    # (user, kind_name) -> {listing id: both sides interested}, for listings of that kind in a
    # recommended pair with the user's organization on the other side.
    party_access: Callable[[object, str], dict[int, bool]]
    # (kind_name, listing_id, limit) -> the listing's active pairs, best score first.
    ranked: Callable[[str, int, int], list]
    # (user, kind_name or None, listing_id or None, limit) -> active pairs to export: the
    # listing's when it is given, else every pair the user may see, best score first.
    exportable: Callable[[object, str | None, int | None, int], list]


def register(app: Flask, readers: ListingPairs) -> None:
    app.extensions["listing_pairs"] = readers


def listing_pairs() -> ListingPairs:
    """The current app's readers of a listing's pairs."""
    return current_app.extensions["listing_pairs"]
