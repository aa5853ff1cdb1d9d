"""The pair's states: the strings stored in suggestions.state, their Chinese labels and the moves.

The values are a contract (database rows, check constraints, the API's `state` field, URLs of the
workbench filter): a new state is a migration, never a rename.
"""

from enum import StrEnum


class PairState(StrEnum):
    """Where a need–achievement pair stands, from the matcher's suggestion to a contract."""

    SUGGESTED = "suggested"
    RECOMMENDED = "recommended"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MEETING_SCHEDULED = "meeting_scheduled"
    MET = "met"
    INTENTION = "intention"
    CONTRACT = "contract"
    DISMISSED = "dismissed"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def moves(self) -> tuple["PairState", ...]:
        """The states a broker may move a pair in this state to."""
        return TRANSITIONS[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


S = PairState
LABELS: dict[PairState, str] = {
    S.SUGGESTED: "系统建议",
    S.RECOMMENDED: "已推荐",
    S.ACCEPTED: "双方有意向",
    S.DECLINED: "已婉拒",
    S.MEETING_SCHEDULED: "已约见",
    S.MET: "已洽谈",
    S.INTENTION: "合作意向",
    S.CONTRACT: "已签约",
    S.DISMISSED: "已驳回",
    S.CLOSED: "已关闭",
}
# Moves a broker makes; a party's answer (accepted/declined from recommended) is handled apart.
TRANSITIONS: dict[PairState, tuple[PairState, ...]] = {
    S.SUGGESTED: (S.RECOMMENDED, S.DISMISSED, S.CLOSED),
    S.RECOMMENDED: (S.CLOSED,),
    S.ACCEPTED: (S.MEETING_SCHEDULED, S.CLOSED),
    S.DECLINED: (S.CLOSED,),
    S.MEETING_SCHEDULED: (S.MET, S.CLOSED),
    S.MET: (S.INTENTION, S.CLOSED),
    S.INTENTION: (S.CONTRACT, S.CLOSED),
    S.CONTRACT: (),
    S.DISMISSED: (),
    S.CLOSED: (),
}
# The states a side's answer leads to.
ANSWER_STATES = (S.ACCEPTED, S.DECLINED)
FINAL_STATES = (S.CONTRACT, S.DISMISSED, S.CLOSED)
# The way forward, one step at a time, from the matcher's suggestion to a contract.
PATH = (S.SUGGESTED, S.RECOMMENDED, S.ACCEPTED, S.MEETING_SCHEDULED, S.MET, S.INTENTION, S.CONTRACT)
# Both sides have said they are interested (a check constraint holds the answers to it).
ENGAGED_STATES = PATH[PATH.index(S.ACCEPTED) :]
# Both sides are interested and the broker has the next step to take.
BROKER_WAITING = ENGAGED_STATES[:-1]
# Ended without a contract: no meeting is planned for such a pair.
ENDED_STATES = (S.DISMISSED, S.DECLINED, S.CLOSED)
# A pair in any other state has been recommended to its parties; one in these may or may not
# have been (closed straight from a suggestion), which only its events tell.
MAYBE_UNSEEN = (S.SUGGESTED, S.DISMISSED, S.CLOSED)
del S

# The stored values as plain strings, for check constraints and JSON schemas.
PAIR_STATES: tuple[str, ...] = tuple(s.value for s in PairState)


def reached(state: PairState) -> tuple[PairState, ...]:
    """The states of PATH from `state` on: a pair in one of them has come at least that far."""
    return PATH[PATH.index(state) :]


def state_label(state: str | None) -> str:
    """The Chinese label of a state; an unknown or empty value is shown as it is."""
    try:
        return LABELS[PairState(state)]
    except ValueError:
        return state or ""
