"""Evaluating a RuleSet on a conversation, turn by turn.

`evaluate` is the hot path the policy runs on every user message: rules that cannot fire (other
channel, disabled, in cooldown) are skipped before their condition is checked, and explanations
are only written for the rules that fired. `evaluate_in_detail` also checks suppressed rules and
says why they stayed quiet, which is what `rules test` prints for designers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial

from handoff_component.core.rules.durations import format_duration
from handoff_component.core.rules.facts import ConversationFacts
from handoff_component.core.rules.model import (
    PRIORITY_RANK,
    ChannelSafetyNet,
    RuleSet,
    TriggerRule,
)
from handoff_component.core.rules.view import ConversationView


@dataclass(frozen=True)
class RuleMatch:
    """A rule that fired: its strength in [0, 1] and why, in words.

    The explanation is written when first read: the policy needs only the winner's, and
    writing one for every rule that fired on an angry message costs more than finding them.
    """

    rule: TriggerRule
    score: float
    _explain: Callable[[], str] = field(compare=False, repr=False)

    @cached_property
    def explanation(self) -> str:
        return self._explain()

    @property
    def reason(self) -> str:
        """What the action and the attendant read: the rule's description, then the evidence."""
        if self.rule.description:
            return f"{self.rule.description}: {self.explanation}"
        return self.explanation

    def sort_key(self) -> tuple[int, float, int]:
        return (-PRIORITY_RANK[self.rule.priority], -self.score, self.rule.line)


@dataclass(frozen=True)
class Suppression:
    """A rule whose condition held but that may not fire now, and why."""

    rule: TriggerRule
    why: str
    match: RuleMatch


@dataclass(frozen=True)
class Evaluation:
    """Fired rules, best first: the most urgent priority, then the strongest score, then the one
    written first."""

    fired: tuple[RuleMatch, ...]
    suppressed: tuple[Suppression, ...]
    safety_net: ChannelSafetyNet

    @property
    def winner(self) -> RuleMatch | None:
        return self.fired[0] if self.fired else None


def _last_firing(view: ConversationView, rule_name: str | None) -> float | None:
    """Timestamp of the newest earlier handoff (of `rule_name`, or of any kind when None)."""
    latest = None
    for firing in view.firings:
        if (rule_name is None or firing.rule == rule_name) and (
            latest is None or firing.timestamp > latest
        ):
            latest = firing.timestamp
    return latest


def _in_cooldown(view: ConversationView, rule_name: str | None, cooldown: float, now: float):
    """Seconds since the earlier firing when still within `cooldown`, else None."""
    if cooldown <= 0 or not view.firings:
        return None
    last = _last_firing(view, rule_name)
    if last is None or now - last >= cooldown:
        return None
    return max(0.0, now - last)


def _last_firings(view: ConversationView) -> dict[str | None, float]:
    """Newest firing time per rule name, and under None the newest of any kind."""
    last: dict[str | None, float] = {}
    for firing in view.firings:
        for key in (firing.rule, None):
            if firing.timestamp > last.get(key, float("-inf")):
                last[key] = firing.timestamp
    return last


def _escalation_floor(view: ConversationView) -> int | None:
    """While a ticket is open and the bot still talks, the channel's safety-net cooldown holds
    back only rules no more urgent than the ticket: a legal threat after a billing complaint
    must still reach the ticket. The rank a rule must beat, or None (no open ticket)."""
    if view.open_ticket_priority is None:
        return None
    return PRIORITY_RANK.get(view.open_ticket_priority, PRIORITY_RANK["normal"])


def evaluate(ruleset: RuleSet, view: ConversationView, now: float) -> list[RuleMatch]:
    """Rules that fire on the view's current (last) turn, best first; empty when none does."""
    if not view.turns:
        return []
    last = _last_firings(view) if view.firings else {}
    safety_net = ruleset.safety_net_for(view.channel)
    above = _escalation_floor(view)
    if None in last and now - last[None] < safety_net.cooldown:
        if above is None:
            return []
    else:
        above = -1
    facts = ConversationFacts(view, ruleset.settings)
    fired: list[RuleMatch] = []
    for rule in ruleset.rules_for(view.channel):
        if last and rule.name in last and now - last[rule.name] < rule.cooldown:
            continue
        if PRIORITY_RANK[rule.priority] <= above:
            continue
        condition = rule.condition
        if condition.holds(facts):
            explain = partial(condition.explain, facts)
            fired.append(RuleMatch(rule, condition.strength(facts), explain))
    if len(fired) > 1:
        fired.sort(key=RuleMatch.sort_key)
    return fired


def evaluate_in_detail(ruleset: RuleSet, view: ConversationView, now: float) -> Evaluation:
    """Like `evaluate`, and also which rules held but were held back (disabled, other channel,
    the rule's cooldown, the channel's safety-net cooldown)."""
    safety_net = ruleset.safety_net_for(view.channel)
    if not view.turns:
        return Evaluation((), (), safety_net)
    facts = ConversationFacts(view, ruleset.settings)
    channel_wait = _in_cooldown(view, None, safety_net.cooldown, now)
    floor = _escalation_floor(view)
    fired: list[RuleMatch] = []
    suppressed: list[Suppression] = []
    for rule in ruleset.rules:
        condition = rule.condition
        if not condition.holds(facts):
            continue
        match = RuleMatch(rule, condition.strength(facts), partial(condition.explain, facts))
        why = None
        if not rule.enabled:
            why = "disabled"
        elif not rule.applies_to(view.channel):
            why = f"not applied on channel {view.channel or '(none)'}"
        elif channel_wait is not None and not (
            floor is not None and PRIORITY_RANK[rule.priority] > floor
        ):
            why = (
                f"channel {safety_net.channel} safety-net cooldown: a handoff "
                f"{format_duration(round(channel_wait))} ago "
                f"(cooldown {format_duration(safety_net.cooldown)})"
            )
        else:
            rule_wait = _in_cooldown(view, rule.name, rule.cooldown, now)
            if rule_wait is not None:
                why = (
                    f"cooldown: fired {format_duration(round(rule_wait))} ago "
                    f"(cooldown {format_duration(rule.cooldown)})"
                )
        if why is None:
            fired.append(match)
        else:
            suppressed.append(Suppression(rule, why, match))
    fired.sort(key=RuleMatch.sort_key)
    return Evaluation(tuple(fired), tuple(suppressed), safety_net)
