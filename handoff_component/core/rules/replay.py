"""Replaying written conversations through the rules, turn by turn, to tune thresholds.

Two file shapes are read: Rasa test stories (`stories:` with `user:`/`intent:` steps) and a
simpler list of turns that may carry scores directly:

    conversations:
      - name: angry_customer
        channel: socketio
        turns:
          - text: where is my order?
            intent: order_status
            sentiment: -0.2
          - {text: this is useless, sentiment: -0.8, at: 2m}

Each replayed turn sees the conversation up to itself, with the handoffs the rules would have
made earlier, so cooldowns show as they would in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from handoff_component.contract.scores import SCORE_NAMES, SCORE_RANGES
from handoff_component.core.rules.durations import parse_duration
from handoff_component.core.rules.evaluator import Evaluation, evaluate_in_detail
from handoff_component.core.rules.model import RuleSet
from handoff_component.core.rules.view import ConversationView, Entity, Firing, Turn

DEFAULT_TURN_INTERVAL = 30.0
DEFAULT_CHANNEL = "socketio"
TURN_FIELDS = (
    "text",
    "intent",
    "confidence",
    "entities",
    "scores",
    *SCORE_NAMES,
    "fallback",
    "at",
    "expect",
)
# Rasa's inline entity annotation: [value](entity) or [value]{"entity": "name", ...}.
_ANNOTATION = re.compile(r"\[(?P<value>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


class ConversationsFileError(ValueError):
    """A conversations file `rules test` cannot replay; the message names the file and turn."""


@dataclass(frozen=True)
class ReplayTurn:
    """A turn as written: whatever is missing may be filled in by a scorer or a model."""

    text: str
    intent: str | None = None
    confidence: float | None = None
    entities: tuple[Entity, ...] | None = None
    scores: Mapping[str, float] = field(default_factory=dict)
    fallback: bool = False
    at: float | None = None
    expect: frozenset[str] | None = None


@dataclass(frozen=True)
class ReplayConversation:
    name: str
    channel: str | None
    turns: tuple[ReplayTurn, ...]
    turn_interval: float = DEFAULT_TURN_INTERVAL


@dataclass(frozen=True)
class TurnResult:
    """One replayed turn: what the rules saw and decided."""

    index: int
    turn: Turn
    evaluation: Evaluation
    expect: frozenset[str] | None

    @property
    def fired_names(self) -> frozenset[str]:
        return frozenset(m.rule.name for m in self.evaluation.fired)

    @property
    def meets_expectation(self) -> bool | None:
        """None when the turn states no expectation; else whether exactly those rules fired."""
        return None if self.expect is None else self.fired_names == self.expect


# A turn as written -> a turn as the rules see it (intent, entities and scores filled in).
TurnAnnotator = Callable[[ReplayTurn], Turn]


def load_conversations(
    path: str | Path, default_channel: str | None = None
) -> list[ReplayConversation]:
    """Read either file shape; raises ConversationsFileError naming what is wrong."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConversationsFileError(f"{path}: cannot read ({error})") from None
    if not isinstance(data, dict):
        raise ConversationsFileError(f"{path}: expected 'conversations:' or 'stories:'")
    if "conversations" in data:
        return _simple_conversations(path, data["conversations"], default_channel)
    if "stories" in data or "rules" in data:
        items = [*(data.get("stories") or []), *(data.get("rules") or [])]
        return _story_conversations(path, items, default_channel)
    raise ConversationsFileError(f"{path}: expected 'conversations:' or 'stories:'")


def _scores(where: str, raw: Mapping[str, Any]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for name, value in raw.items():
        if name not in SCORE_NAMES:
            raise ConversationsFileError(f"{where}: unknown score '{name}'")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConversationsFileError(f"{where}: score '{name}' must be a number")
        low, high = SCORE_RANGES[name]
        if not low <= value <= high:
            raise ConversationsFileError(
                f"{where}: score '{name}' {value} out of range ({low:g}..{high:g})"
            )
        scores[name] = float(value)
    return scores


def _entities(where: str, raw: Any) -> tuple[Entity, ...]:
    if isinstance(raw, dict):
        return tuple(Entity(str(k), v) for k, v in raw.items())
    if isinstance(raw, list) and all(isinstance(e, dict) and "entity" in e for e in raw):
        return tuple(Entity(str(e["entity"]), e.get("value")) for e in raw)
    raise ConversationsFileError(
        f"{where}: entities must be a mapping name: value or a list of {{entity, value}}"
    )


def _expect(where: str, raw: Any) -> frozenset[str]:
    if raw is None or raw == "none" or raw == []:
        return frozenset()
    if isinstance(raw, str):
        return frozenset([raw])
    if isinstance(raw, list) and all(isinstance(r, str) for r in raw):
        return frozenset(raw)
    raise ConversationsFileError(f"{where}: expect must be a rule name, a list, or none")


def _simple_turn(where: str, raw: Any) -> ReplayTurn:
    if isinstance(raw, str):
        raw = {"text": raw}
    if not isinstance(raw, dict):
        raise ConversationsFileError(f"{where}: a turn is a text or a mapping with 'text'")
    unknown = sorted(set(raw) - set(TURN_FIELDS))
    if unknown:
        raise ConversationsFileError(
            f"{where}: unknown field '{unknown[0]}'; expected: {', '.join(TURN_FIELDS)}"
        )
    intent = raw.get("intent")
    text = raw.get("text")
    if text is None and intent:
        text = f"/{intent}"
    if not isinstance(text, str):
        raise ConversationsFileError(f"{where}: a turn needs 'text' (or an 'intent')")
    payload = _payload(text)
    if payload is not None:
        intent = intent or payload[0]
        if "entities" not in raw and payload[1]:
            raw = {**raw, "entities": payload[1]}
    scores = _scores(where, raw.get("scores") or {})
    scores.update(_scores(where, {k: raw[k] for k in SCORE_NAMES if k in raw}))
    confidence = raw.get("confidence")
    if confidence is not None and not (
        isinstance(confidence, int | float) and 0 <= confidence <= 1
    ):
        raise ConversationsFileError(f"{where}: confidence must be a number in 0..1")
    try:
        at = parse_duration(raw["at"]) if "at" in raw else None
    except ValueError as error:
        raise ConversationsFileError(f"{where}: at: {error}") from None
    return ReplayTurn(
        text=text,
        intent=str(intent) if intent else None,
        confidence=float(confidence) if confidence is not None else None,
        entities=_entities(where, raw["entities"]) if "entities" in raw else None,
        scores=scores,
        fallback=bool(raw.get("fallback", False)),
        at=at,
        expect=_expect(where, raw["expect"]) if "expect" in raw else None,
    )


_PAYLOAD = re.compile(r"^/(?P<intent>[^{@\s]+)(?:@[\d.]+)?(?P<entities>\{.*\})?\s*$", re.S)


def _payload(text: str) -> tuple[str, dict[str, Any]] | None:
    """`/intent{"entity": "value"}`, which Rasa turns into an intent without running NLU."""
    match = _PAYLOAD.match(text)
    if match is None:
        return None
    entities: dict[str, Any] = {}
    if match.group("entities"):
        try:
            loaded = json.loads(match.group("entities"))
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            entities = loaded
    return match.group("intent"), entities


def _simple_conversations(
    path: Path, items: Any, default_channel: str | None
) -> list[ReplayConversation]:
    if not isinstance(items, list):
        raise ConversationsFileError(f"{path}: 'conversations' must be a list")
    conversations = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("turns"), list):
            raise ConversationsFileError(f"{path}: conversation {number} needs a 'turns' list")
        name = str(item.get("name") or f"conversation {number}")
        try:
            interval = parse_duration(item.get("turn_interval", DEFAULT_TURN_INTERVAL))
        except ValueError as error:
            raise ConversationsFileError(f"{path}: {name}: turn_interval: {error}") from None
        turns = tuple(
            _simple_turn(f"{path}: {name}: turn {i}", raw)
            for i, raw in enumerate(item["turns"], start=1)
        )
        channel = default_channel or item.get("channel") or DEFAULT_CHANNEL
        conversations.append(ReplayConversation(name, channel, turns, interval))
    return conversations


def _strip_annotations(text: str) -> tuple[str, tuple[Entity, ...]]:
    entities: list[Entity] = []

    def keep_value(match: re.Match[str]) -> str:
        value = match.group("value")
        if match.group("short"):
            entities.append(Entity(match.group("short").split(":")[0].strip(), value))
        else:
            try:
                spec = json.loads(match.group("json"))
                entities.append(Entity(str(spec["entity"]), spec.get("value", value)))
            except (ValueError, KeyError, TypeError):
                pass
        return value

    return _ANNOTATION.sub(keep_value, text), tuple(entities)


def _story_conversations(
    path: Path, items: list[Any], default_channel: str | None
) -> list[ReplayConversation]:
    """User steps become turns; a fallback action right after one marks it as failed."""
    conversations = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            continue
        name = str(item.get("story") or item.get("rule") or f"story {number}")
        turns: list[ReplayTurn] = []
        for step in item.get("steps") or []:
            if not isinstance(step, dict):
                continue
            if "user" in step or "intent" in step:
                intent = step.get("intent")
                if "user" in step:
                    text, entities = _strip_annotations(str(step["user"]).strip())
                    payload = _payload(text)
                    if payload is not None:
                        intent = intent or payload[0]
                        entities += tuple(Entity(str(k), v) for k, v in payload[1].items())
                else:
                    text, entities = f"/{intent}", ()
                step_entities = step.get("entities")
                if isinstance(step_entities, list):
                    for entry in step_entities:
                        if isinstance(entry, dict):
                            entities += tuple(Entity(str(k), v) for k, v in entry.items())
                        elif isinstance(entry, str):
                            entities += (Entity(entry),)
                turns.append(
                    ReplayTurn(
                        text=text,
                        intent=str(intent) if intent else None,
                        entities=entities or None,
                    )
                )
            elif "action" in step and turns and _is_fallback_action(step["action"]):
                turns[-1] = replace(turns[-1], fallback=True)
        if turns:
            channel = default_channel or DEFAULT_CHANNEL
            conversations.append(ReplayConversation(name, channel, tuple(turns)))
    return conversations


_FALLBACK_ACTIONS = ("action_default_fallback", "action_two_stage_fallback", "utter_default")


def _is_fallback_action(action: Any) -> bool:
    return isinstance(action, str) and action in _FALLBACK_ACTIONS


def given_values(turn: ReplayTurn) -> Turn:
    """The turn with only what the file states; unknown scores stay unknown."""
    return Turn(
        text=turn.text,
        intent=turn.intent,
        intent_confidence=1.0 if turn.confidence is None else turn.confidence,
        entities=turn.entities or (),
        scores=dict(turn.scores),
        fallback=turn.fallback,
    )


def replay(
    ruleset: RuleSet,
    conversation: ReplayConversation,
    annotate: TurnAnnotator = given_values,
    start: float = 0.0,
) -> list[TurnResult]:
    """Evaluate every turn in order. When a rule fires, the handoff is recorded for the later
    cooldowns; the replay carries on (in production the bot would be paused) so later turns
    still show what the rules think of them."""
    results: list[TurnResult] = []
    turns: list[Turn] = []
    firings: list[Firing] = []
    now = start
    for index, written in enumerate(conversation.turns):
        if index > 0:
            now += conversation.turn_interval
        if written.at is not None:
            now = start + written.at
        turn = annotate(written)._replace(timestamp=now)
        settings = ruleset.settings
        if turn.intent in settings.fallback_intents:
            turn = turn._replace(fallback=True)
        if not turn.scores and turn.intent in settings.human_request_intents:
            # As in production: a button payload carries no scores but is an explicit request.
            turn = turn._replace(scores={"human_request": 1.0})
        turns.append(turn)
        view = ConversationView(tuple(turns), conversation.channel, tuple(firings))
        evaluation = evaluate_in_detail(ruleset, view, now)
        if evaluation.winner is not None:
            firings.append(Firing(evaluation.winner.rule.name, now))
        results.append(TurnResult(index + 1, turn, evaluation, written.expect))
    return results
