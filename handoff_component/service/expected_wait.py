"""How long a customer waiting for a team will wait for a claim: the estimate, from the queue.

Pure: it takes the figures the ticket store reads (`tickets/queue.py`) and returns seconds, or
None when nothing honest can be said. The customer hears it ("the expected wait is about 4
minutes"), the Inbox shows it on the ticket, and the automation pass compares it with what the
customer was told (`wait_grew`). docs/handoff.md, "How long the customer waits", explains it.

The formula: every signed-in attendant of the team takes the next ticket of the queue about as
fast as the team's recent tickets were claimed (the median of their time to claim), so the
tickets ahead are taken `attendants` at a time, and this one is in round
`ahead // attendants + 1`:

    expected wait = median(recent times to claim) x (ahead // attendants + 1)

Unknown (None) when nobody of the team is signed in (nobody can claim; the channel's safety net
decides what happens), or when the team has fewer than `min_samples` recent claims to learn its
pace from.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

# Fewer recent claims than this say too little about a team's pace: the wait is unknown.
MIN_SAMPLES = 3
# The update to a waiting customer: only when the expected wait has at least doubled and grown
# by at least this much since they were told.
GROWTH_FACTOR = 2.0
MIN_GROWTH_SECONDS = 300.0


@dataclass(frozen=True)
class QueueFigures:
    """What the estimate is made of, for one ticket of one team's queue.

    `ahead`: open tickets of the team before this one in the queue's order (most urgent first,
    then oldest). `attendants`: the team's attendants signed in now and not deactivated.
    `claim_seconds`: the team's recent times from a ticket's creation to its claim (a ticket the
    safety net handed back unclaimed counts with the time it waited, a lower bound of its own).
    """

    ahead: int
    attendants: int
    claim_seconds: Sequence[float]


def expected_wait_seconds(figures: QueueFigures, min_samples: int = MIN_SAMPLES) -> float | None:
    """The expected wait until a claim, in seconds from now; None when it is unknown."""
    if figures.attendants <= 0 or len(figures.claim_seconds) < max(1, min_samples):
        return None
    pace = statistics.median(max(0.0, float(s)) for s in figures.claim_seconds)
    rounds = max(0, figures.ahead) // figures.attendants + 1
    return pace * rounds


def wait_grew(
    told_seconds: float,
    told_at: datetime,
    estimate_seconds: float,
    now: datetime,
    *,
    factor: float = GROWTH_FACTOR,
    min_growth_seconds: float = MIN_GROWTH_SECONDS,
) -> bool:
    """Whether a customer told at `told_at` to expect `told_seconds` should hear a new figure.

    The wait as it looks now is the time already waited plus the estimate from now: the update
    is due when that is at least `factor` times what they were told and later by at least
    `min_growth_seconds` (a wait from one minute to two is not worth a message; from ten
    minutes to twenty-five is).
    """
    waited = max(0.0, (now - told_at).total_seconds())
    now_expected = waited + max(0.0, estimate_seconds)
    told = max(0.0, told_seconds)
    return now_expected >= factor * told and now_expected - told >= min_growth_seconds
