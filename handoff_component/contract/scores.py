"""The per-turn scores HandoffScorer writes into Rasa's parse data, named once for every reader.

The NLU component adds one object under `parse_data["handoff"]` (`SCORE_KEY`): the scores
below, each in its range, plus their `signals`. The policy's rules, the agent summary, the
command-line tools, the event broker's events and the service all read it back, so its key, the
score names and their ranges are part of the contract.
"""

SCORE_KEY = "handoff"
SCORE_NAMES = ("sentiment", "frustration", "complexity", "uncertainty", "human_request")
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "sentiment": (-1.0, 1.0),
    "frustration": (0.0, 1.0),
    "complexity": (0.0, 1.0),
    "uncertainty": (0.0, 1.0),
    "human_request": (0.0, 1.0),
}
