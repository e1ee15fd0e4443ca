"""The knobs of the rules language itself, under `settings:` in a rules file.

Its own module, below the conditions and the facts that read it, so that the model (rules made of
conditions) and the facts (answers the conditions ask for) do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handoff_component.contract.domain import (
    DEFAULT_FALLBACK_INTENTS,
    DEFAULT_HUMAN_REQUEST_INTENTS,
    HANDOFF_ACTION,
)
from handoff_component.core.rules.text import IGNORED_WORDS, fold


@dataclass(frozen=True)
class RuleSettings:
    """The knobs of the language itself, under `settings:` in the file."""

    rephrase_similarity: float = 0.6
    rephrase_window: int = 3
    rephrase_min_words: int = 1
    rephrase_ignore_words: tuple[str, ...] = ()
    fallback_intents: tuple[str, ...] = DEFAULT_FALLBACK_INTENTS
    fallback_actions: tuple[str, ...] = ("action_default_fallback", "action_two_stage_fallback")
    # The same defaults as the scorer's option of that name (contract/domain.py).
    human_request_intents: tuple[str, ...] = DEFAULT_HUMAN_REQUEST_INTENTS
    extra_channels: tuple[str, ...] = ()
    # The name HandoffPolicy predicts and the action server registers ours under.
    action_name: str = HANDOFF_ACTION
    # The built-in ignored words plus `rephrase_ignore_words`, folded like messages are.
    ignored_words: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        extra = {word for entry in self.rephrase_ignore_words for word in fold(entry).split()}
        object.__setattr__(self, "ignored_words", IGNORED_WORDS | extra)
