"""The ticket state machine: each rule, and random sequences that never reach an invalid state."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component.core import ticket_lifecycle as lc
from handoff_component.core.ticket_lifecycle import Actor, Status

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
ANA = Actor.attendant(1)
WINDOW = timedelta(minutes=15)
IDLE = timedelta(minutes=30)


def new_ticket(team: str | None = "7") -> lc.TicketState:
    state, record = lc.open_ticket(T0, team=team, actor=Actor("rasa", "rule"))
    assert record.action == "create"
    return state


def run(state: lc.TicketState, *steps: tuple[lc.Action, timedelta]) -> lc.TicketState:
    now = T0
    for action, after in steps:
        now += after
        state, _ = lc.apply(state, action, ANA, now)
    return state


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_a_new_ticket_is_open_and_unassigned() -> None:
    state = new_ticket()

    assert state.status == Status.OPEN
    assert state.assignee is None
    assert lc.allowed_actions(state)[0] == "claim"


def test_claiming_starts_work_and_records_the_claim_time() -> None:
    state, record = lc.apply(new_ticket(), lc.Claim("1"), ANA, T0 + minutes(2))

    assert state.status == Status.IN_PROGRESS
    assert state.assignee == "1"
    assert state.claimed_at == T0 + minutes(2)
    assert (record.action, record.from_status, record.to_status) == (
        "claim",
        Status.OPEN,
        Status.IN_PROGRESS,
    )
    assert record.actor == ANA


def test_a_claimed_ticket_cannot_be_claimed_again() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)))

    with pytest.raises(lc.InvalidTransition, match="already taken by attendant 1"):
        lc.apply(state, lc.Claim("2"), Actor.attendant(2), T0 + minutes(2))


def test_replying_needs_a_claim_first() -> None:
    with pytest.raises(lc.InvalidTransition, match="claim the ticket before replying"):
        lc.apply(new_ticket(), lc.Reply(), ANA, T0)


def test_a_reply_awaits_the_customer_and_sets_first_response_once() -> None:
    state = run(
        new_ticket(),
        (lc.Claim("1"), minutes(1)),
        (lc.Reply(), minutes(2)),
        (lc.CustomerMessage(WINDOW), minutes(1)),
        (lc.Reply(), minutes(5)),
    )

    assert state.status == Status.AWAITING_RESPONSE
    assert state.first_response_at == T0 + minutes(3)
    assert state.awaiting_since == T0 + minutes(9)


def test_a_customer_message_brings_an_awaiting_ticket_back_in_progress() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)), (lc.Reply(), minutes(1)))

    state, record = lc.apply(state, lc.CustomerMessage(WINDOW), Actor.customer(), T0 + minutes(3))

    assert state.status == Status.IN_PROGRESS
    assert state.awaiting_since is None
    assert record.changed_status


def test_a_customer_message_on_an_open_ticket_changes_nothing() -> None:
    state, record = lc.apply(new_ticket(), lc.CustomerMessage(WINDOW), Actor.customer(), T0)

    assert state == new_ticket()
    assert not record.changed_status


def test_transfer_to_a_team_clears_the_assignee_and_waits_for_a_claim() -> None:
    state = run(new_ticket("7"), (lc.Claim("1"), minutes(1)), (lc.Reply(), minutes(1)))

    state, record = lc.apply(state, lc.TransferToTeam("8"), ANA, T0 + minutes(3))

    assert (state.status, state.team, state.assignee) == (Status.OPEN, "8", None)
    assert record.detail == {"from_team": "7", "to_team": "8", "from_assignee": "1"}
    assert state.claimed_at == T0 + minutes(1)  # the first claim stays for the SLA


def test_transfer_to_an_attendant_sets_the_assignee() -> None:
    state = run(new_ticket(), (lc.TransferToAttendant("2"), minutes(1)))

    assert (state.status, state.assignee) == (Status.IN_PROGRESS, "2")


def test_transfer_to_the_current_assignee_is_refused() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)))

    with pytest.raises(lc.InvalidTransition, match="already assigned"):
        lc.apply(state, lc.TransferToAttendant("1"), ANA, T0 + minutes(2))


def test_a_note_changes_nothing_but_is_recorded_even_on_a_closed_ticket() -> None:
    closed = run(new_ticket(), (lc.Close(), minutes(1)))

    state, record = lc.apply(closed, lc.Note(), ANA, T0 + minutes(2))

    assert state == closed
    assert record.action == "note"


def test_close_records_the_resolution_and_time() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)), (lc.Close(), minutes(9)))

    assert state.status == Status.CLOSED
    assert state.closed_at == T0 + minutes(10)
    assert state.resolution == lc.Resolution.CLOSED
    assert not state.handed_back


def test_closing_twice_is_refused() -> None:
    state = run(new_ticket(), (lc.Close(), minutes(1)))

    with pytest.raises(lc.InvalidTransition, match="closed"):
        lc.apply(state, lc.Close(), ANA, T0 + minutes(2))


def test_a_customer_message_within_the_window_reopens_to_the_same_attendant() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)), (lc.Close(), minutes(1)))

    state, record = lc.apply(state, lc.CustomerMessage(WINDOW), Actor.customer(), T0 + minutes(10))

    assert (state.status, state.assignee, state.reopen_count) == (Status.IN_PROGRESS, "1", 1)
    assert state.closed_at is None and state.resolution is None
    assert record.detail == {"reopened_by": "customer"}


def test_an_unassigned_closed_ticket_reopens_as_open() -> None:
    state = run(new_ticket(), (lc.Close(), minutes(1)))

    state, _ = lc.apply(state, lc.CustomerMessage(WINDOW), Actor.customer(), T0 + minutes(2))

    assert state.status == Status.OPEN


def test_a_customer_message_after_the_window_does_not_reopen() -> None:
    state = run(new_ticket(), (lc.Close(), minutes(1)))

    with pytest.raises(lc.InvalidTransition, match="reopen window has passed"):
        lc.apply(state, lc.CustomerMessage(WINDOW), Actor.customer(), T0 + minutes(17))


def test_hand_back_waits_for_the_window_then_blocks_reopening() -> None:
    closed = run(new_ticket(), (lc.Close(), minutes(1)))
    with pytest.raises(lc.InvalidTransition, match="still running"):
        lc.apply(closed, lc.HandBack(WINDOW), Actor.system(), T0 + minutes(5))

    handed, _ = lc.apply(closed, lc.HandBack(WINDOW), Actor.system(), T0 + minutes(16))

    assert handed.handed_back
    with pytest.raises(lc.InvalidTransition, match="handed back"):
        lc.apply(handed, lc.CustomerMessage(timedelta(days=1)), Actor.customer(), T0 + minutes(17))


def test_resume_bot_closes_and_hands_back_at_once() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)), (lc.ResumeBot(), minutes(1)))

    assert (state.status, state.resolution, state.handed_back) == (
        Status.CLOSED,
        lc.Resolution.RESUMED_BOT,
        True,
    )
    with pytest.raises(lc.InvalidTransition):
        lc.apply(state, lc.ResumeBot(), ANA, T0 + minutes(3))


def test_an_attendant_may_reopen_even_a_handed_back_ticket() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)), (lc.ResumeBot(), minutes(1)))

    state, record = lc.apply(state, lc.Reopen(), ANA, T0 + timedelta(days=3))

    assert (state.status, state.handed_back, state.reopen_count) == (Status.IN_PROGRESS, False, 1)
    assert record.detail["was_handed_back"] is True


def test_inactivity_closes_only_after_the_limit() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)), (lc.Reply(), minutes(1)))
    with pytest.raises(lc.InvalidTransition, match="still has time"):
        lc.apply(state, lc.InactivityTimeout(IDLE), Actor.system(), T0 + minutes(20))

    state, record = lc.apply(state, lc.InactivityTimeout(IDLE), Actor.system(), T0 + minutes(33))

    assert (state.status, state.resolution) == (Status.CLOSED, lc.Resolution.INACTIVITY)
    assert record.actor == Actor.system()


def test_inactivity_never_closes_a_ticket_the_attendant_owes_an_answer() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)))

    with pytest.raises(lc.InvalidTransition, match="only tickets awaiting"):
        lc.apply(state, lc.InactivityTimeout(IDLE), Actor.system(), T0 + timedelta(days=1))


def test_an_unclaimed_ticket_is_closed_and_handed_back_after_its_time() -> None:
    state = new_ticket()
    with pytest.raises(lc.InvalidTransition, match="still within"):
        lc.apply(state, lc.UnclaimedTimeout(minutes(5)), Actor.system(), T0 + minutes(4))

    state, record = lc.apply(
        state, lc.UnclaimedTimeout(minutes(5)), Actor.system(), T0 + minutes(6)
    )

    assert (state.status, state.resolution) == (Status.CLOSED, lc.Resolution.UNCLAIMED)
    assert state.handed_back is True
    assert record.detail["resolution"] == "unclaimed"


def test_a_claimed_ticket_never_times_out_as_unclaimed() -> None:
    state = run(new_ticket(), (lc.Claim("1"), minutes(1)))

    with pytest.raises(lc.InvalidTransition, match="first attendant"):
        lc.apply(state, lc.UnclaimedTimeout(minutes(5)), Actor.system(), T0 + timedelta(days=1))


# --- properties -------------------------------------------------------------------------------

ATTENDANTS = st.sampled_from(["1", "2", "3"])
ACTIONS = st.one_of(
    st.builds(lc.Claim, ATTENDANTS),
    st.just(lc.Reply()),
    st.builds(lc.CustomerMessage, st.just(WINDOW)),
    st.builds(lc.TransferToAttendant, ATTENDANTS),
    st.builds(lc.TransferToTeam, st.sampled_from(["7", "8"])),
    st.just(lc.Note()),
    st.just(lc.Close()),
    st.just(lc.Reopen()),
    st.just(lc.ResumeBot()),
    st.builds(lc.HandBack, st.just(WINDOW)),
    st.builds(lc.InactivityTimeout, st.just(IDLE)),
    st.builds(lc.UnclaimedTimeout, st.just(IDLE)),
)
STEPS = st.lists(st.tuples(ACTIONS, st.integers(min_value=0, max_value=40)), max_size=40)


@settings(max_examples=400, deadline=None)
@given(STEPS)
def test_no_sequence_of_actions_reaches_an_invalid_state(steps: list) -> None:
    state = new_ticket()
    now = T0
    for action, gap in steps:
        now += minutes(gap)
        try:
            new_state, record = lc.apply(state, action, ANA, now)
        except lc.InvalidTransition as refused:
            assert refused.status == state.status  # a refusal names the current status
            continue
        lc.check_invariants(new_state)
        assert record.from_status == state.status
        assert record.to_status == new_state.status
        assert record.at == now
        # counters and first-time stamps never go back
        assert new_state.reopen_count >= state.reopen_count
        if state.claimed_at is not None:
            assert new_state.claimed_at == state.claimed_at
        if state.first_response_at is not None:
            assert new_state.first_response_at == state.first_response_at
        state = new_state


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_the_allowed_actions_are_exactly_the_ones_apply_accepts(steps: list) -> None:
    state = new_ticket()
    now = T0
    for action, gap in steps:
        now += minutes(gap)
        with contextlib.suppress(lc.InvalidTransition):
            state, _ = lc.apply(state, action, ANA, now)
    probes = {
        "claim": lc.Claim("9"),
        "reply": lc.Reply(),
        "close": lc.Close(),
        "reopen": lc.Reopen(),
        "resume_bot": lc.ResumeBot(),
        "note": lc.Note(),
    }
    allowed = set(lc.allowed_actions(state))
    for name, probe in probes.items():
        try:
            lc.apply(state, probe, ANA, now)
            accepted = True
        except lc.InvalidTransition:
            accepted = False
        assert accepted == (name in allowed), (name, state)


def test_invariant_violations_are_caught() -> None:
    broken = lc.TicketState(status=Status.IN_PROGRESS, created_at=T0)

    with pytest.raises(lc.BrokenInvariant, match="assignee"):
        lc.check_invariants(broken)
