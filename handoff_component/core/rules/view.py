"""What the rules see of a conversation: its user turns, its channel and its earlier handoffs.

The policy builds a ConversationView from Rasa tracker events and `rules test` builds one from a
file of turns, so the evaluator never depends on where a conversation comes from; both make each
turn of Rasa's NLU output with `turn_from_nlu`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from handoff_component.contract.domain import DEFAULT_HUMAN_REQUEST_INTENTS
from handoff_component.contract.scores import SCORE_KEY, SCORE_NAMES, SCORE_RANGES
from handoff_component.core.rules.settings import RuleSettings

_NO_SCORES: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: Any = None


class Turn(NamedTuple):
    """One user message. A score missing from `scores` is unknown, not zero: conditions on it do
    not hold, so a button payload without NLU scores cannot trip a low-sentiment rule.

    A NamedTuple rather than a frozen dataclass: the policy builds one per user message of the
    tracker on every turn, and a frozen dataclass is three times slower to create.
    """

    text: str
    intent: str | None = None
    intent_confidence: float = 1.0
    entities: tuple[Entity, ...] = ()
    scores: Mapping[str, float] = _NO_SCORES
    fallback: bool = False
    timestamp: float = 0.0


@dataclass(frozen=True, slots=True)
class Firing:
    """An earlier handoff in this conversation; `rule` is None when a story, not a trigger rule,
    ran `action_handoff` (it still counts for the channel's safety-net cooldown)."""

    rule: str | None
    timestamp: float


@dataclass(frozen=True, slots=True)
class ConversationView:
    """The turns since the conversation (re)started, oldest first; the last one is the current."""

    turns: tuple[Turn, ...]
    channel: str | None = None
    firings: tuple[Firing, ...] = ()
    sender_id: str | None = None
    # The priority of the ticket that is open while the bot keeps talking (a safety net with
    # `auto_pause: false`), None when there is none: a more urgent rule may still fire then.
    open_ticket_priority: str | None = None

    @property
    def current(self) -> Turn | None:
        return self.turns[-1] if self.turns else None


def scores_from_parse_data(
    parse_data: Mapping[str, Any] | None,
    intent: str | None,
    human_request_intents: Collection[str] = DEFAULT_HUMAN_REQUEST_INTENTS,
) -> dict[str, float]:
    """The known scores of one message.

    Button payloads such as `/request_human` bypass the NLU pipeline, so they carry no scores;
    their intent is an explicit request, which we count as `human_request` 1.0. Every other score
    of such a turn stays unknown.
    """
    handoff = parse_data.get(SCORE_KEY) if parse_data else None
    # Plain type tests: this runs for every user message of the tracker on every turn, and an
    # ABC isinstance (Mapping) costs ten times more.
    if type(handoff) is not dict and not isinstance(handoff, Mapping):
        return {"human_request": 1.0} if intent in human_request_intents else {}
    scores: dict[str, float] = {}
    for name in SCORE_NAMES:
        value = handoff.get(name)
        if type(value) is float or type(value) is int:  # not bool, which is an int subclass
            low, high = SCORE_RANGES[name]
            scores[name] = low if value < low else high if value > high else float(value)
    return scores


def turn_from_nlu(
    text: str,
    intent: Mapping[str, Any] | None,
    entities: Iterable[Any] | None,
    parse_data: Mapping[str, Any] | None,
    settings: RuleSettings,
    *,
    fallback: bool = False,
    timestamp: float = 0.0,
) -> Turn:
    """One user message as the rules see it, from what Rasa's NLU made of it.

    The intent and its confidence (1.0 when NLU gave none: a `/intent` payload), the entities,
    the scores HandoffScorer added, and whether the turn failed (a fallback intent, or
    `fallback` when a fallback action followed it). HandoffPolicy calls it for each UserUttered
    event of the tracker, `rules test --model` for each parse, so both see the same turn.
    """
    name = intent.get("name") if intent else None
    confidence = intent.get("confidence") if intent else None
    return Turn(
        text=text,
        intent=name,
        intent_confidence=1.0 if confidence is None else float(confidence),
        entities=tuple(
            Entity(str(e.get("entity")), e.get("value")) for e in entities if type(e) is dict
        )
        if entities
        else (),
        scores=scores_from_parse_data(parse_data, name, settings.human_request_intents),
        fallback=fallback or name in settings.fallback_intents,
        timestamp=timestamp,
    )
