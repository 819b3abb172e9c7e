"""The chat's life as a pure state machine: which transitions exist, and nothing else."""

import itertools

import pytest

from chat.states import ChatStatus, Transition, TransitionNotAllowed, can, next_status

ALLOWED = {
    (ChatStatus.QUEUED, Transition.ASSIGN): ChatStatus.ACTIVE,
    (ChatStatus.QUEUED, Transition.CLOSE): ChatStatus.CLOSED,
    (ChatStatus.ACTIVE, Transition.CLOSE): ChatStatus.CLOSED,
    (ChatStatus.ACTIVE, Transition.REQUEUE): ChatStatus.QUEUED,
}
EVERY_PAIR = list(itertools.product(ChatStatus, Transition))


@pytest.mark.parametrize(("status", "transition"), list(ALLOWED))
def test_allowed_transitions_lead_to_their_status(
    status: ChatStatus, transition: Transition
) -> None:
    assert can(status, transition)
    assert next_status(status, transition) is ALLOWED[(status, transition)]


@pytest.mark.parametrize(
    ("status", "transition"), [pair for pair in EVERY_PAIR if pair not in ALLOWED]
)
def test_every_other_transition_is_refused(status: ChatStatus, transition: Transition) -> None:
    assert not can(status, transition)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        next_status(status, transition)
    assert excinfo.value.status is status
    assert excinfo.value.transition is transition
    assert str(status) in str(excinfo.value) and str(transition) in str(excinfo.value)


def test_the_refused_transitions_are_exactly_these() -> None:
    # Pins the table: a new transition must be added here on purpose.
    refused = {pair for pair in EVERY_PAIR if not can(*pair)}
    assert refused == {
        (ChatStatus.ACTIVE, Transition.ASSIGN),
        (ChatStatus.CLOSED, Transition.ASSIGN),
        (ChatStatus.CLOSED, Transition.CLOSE),
        (ChatStatus.QUEUED, Transition.REQUEUE),
        (ChatStatus.CLOSED, Transition.REQUEUE),
    }


def test_a_closed_chat_is_terminal() -> None:
    assert not any(can(ChatStatus.CLOSED, transition) for transition in Transition)


@pytest.mark.parametrize("raw", ["queued", "active"])
def test_plain_strings_from_the_database_are_accepted(raw: str) -> None:
    assert next_status(raw, Transition.CLOSE) is ChatStatus.CLOSED
    assert can(raw, Transition.CLOSE)


@pytest.mark.parametrize("raw", ["", "QUEUED", "archived"])
def test_an_unknown_status_is_an_error_not_a_silent_refusal(raw: str) -> None:
    with pytest.raises(ValueError):
        next_status(raw, Transition.CLOSE)
    with pytest.raises(ValueError):
        can(raw, Transition.CLOSE)


def test_the_model_choices_follow_the_state_machine() -> None:
    from chat.models import Chat

    assert set(Chat.Status.values) == {status.value for status in ChatStatus}
