"""The pair states are a contract: stored rows, check constraints and the API use the strings."""

from matchmaker.pairs.models import PAIR_STATES
from matchmaker.pairs.states import LABELS, TRANSITIONS, PairState, reached, state_label


def test_stored_values_stay_the_same():
    assert PAIR_STATES == (
        "suggested",
        "recommended",
        "accepted",
        "declined",
        "meeting_scheduled",
        "met",
        "intention",
        "contract",
        "dismissed",
        "closed",
    )
    assert PairState.MEETING_SCHEDULED == "meeting_scheduled"


def test_every_state_has_a_label_and_moves_within_the_states():
    assert set(LABELS) == set(TRANSITIONS) == set(PairState)
    assert state_label("contract") == "已签约" == PairState.CONTRACT.label
    assert state_label("unknown") == "unknown" and state_label(None) == ""
    assert all(to in PairState for moves in TRANSITIONS.values() for to in moves)
    assert reached(PairState.MET) == (PairState.MET, PairState.INTENTION, PairState.CONTRACT)
