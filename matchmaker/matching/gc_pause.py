"""Pause Python's cyclic garbage collector around bulk work that builds millions of objects.

Loading or vectorizing 100,000 listings creates lists and tuples by the million; each one counts
towards the collector's thresholds, and its full passes walk every live object again and again
(half the time of loading the listings, measured). Such work creates no reference cycles worth
collecting meanwhile, so the collector waits until it is done.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def gc_paused():
    """Disable the cyclic collector for the block (nested uses are fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
