"""Run a few independent calls in forked processes (2 cores here: 2 calls), results by pipe.

scipy's sparse products hold the GIL, so threads would not help;
forked children share the parent's data copy-on-write and send back only their results.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence


def can_fork(n_jobs: int) -> bool:
    """Whether n_jobs > 1 may fork here (daemonic processes may not have children)."""
    return n_jobs > 1 and "fork" in mp.get_all_start_methods() and not mp.current_process().daemon


def fork_calls(calls: Sequence[Callable[[], object]], n_jobs: int) -> list:
    """Return [call() for call in calls], calls after the first each in a forked child.

    With n_jobs <= 1 (or where forking is not possible) the calls run here, one after another.
    """
    if len(calls) < 2 or not can_fork(n_jobs):
        return [call() for call in calls]
    context = mp.get_context("fork")
    children = []
    for call in calls[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_send, args=(call, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    try:
        results = [calls[0]()]
        for _child, receiver in children:
            try:
                ok, value = receiver.recv()
            except EOFError:
                raise RuntimeError("a forked engine process stopped unexpectedly") from None
            if not ok:
                raise RuntimeError(f"a forked engine process failed: {value}")
            results.append(value)
        return results
    finally:
        for child, _ in children:
            child.join(timeout=5)
            if child.is_alive():
                child.terminate()


def _send(call, sender) -> None:
    try:
        result = (True, call())
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        result = (False, f"{type(exc).__name__}: {exc}")
    sender.send(result)
    sender.close()
