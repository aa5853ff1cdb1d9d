"""Domain events that one feature raises and another reacts to, without importing each other.

Receivers run inside the sender's request or task, after the sender committed.
"""

from blinker import Namespace

_events = Namespace()

# sender: "need" or "achievement"; kwargs: listing_id. Raised after a listing is published or a
# published listing is edited, so its incremental match can be queued.
listing_published = _events.signal("listing-published")
# sender: "need" or "achievement"; kwargs: listing_id. Raised after a listing is withdrawn or
# closed.
listing_withdrawn = _events.signal("listing-withdrawn")
# sender: the Suggestion id; kwargs: from_state, to_state, actor_id. Raised after a pair moves,
# for domains above pairs to react to (none does yet; tests/pairs pin when it is sent).
pair_moved = _events.signal("pair-moved")
# sender: the notification kind; kwargs: users, message, link. Sent by a domain below
# notifications (accounts) to tell users something in-app; received by notifications.
notice = _events.signal("notice")
