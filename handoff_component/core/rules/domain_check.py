"""Rules checked against a bot's domain: a rule naming an intent or entity the domain lacks could
never fire, so `rasa train` and `rules check` report it on its line."""

from __future__ import annotations

from collections.abc import Collection

from handoff_component.core.rules.conditions import EntityCondition, IntentCondition
from handoff_component.core.rules.model import RuleSet
from handoff_component.core.rules.problems import RuleProblem, suggest


def check_against_domain(
    ruleset: RuleSet, intents: Collection[str], entities: Collection[str]
) -> list[RuleProblem]:
    """Intents and entities the rules name but the domain lacks: such a rule could never fire."""
    problems: list[RuleProblem] = []
    for rule in ruleset.rules:
        for condition in rule.condition.walk():
            if isinstance(condition, IntentCondition):
                kind, names, known = "intent", condition.names, intents
            elif isinstance(condition, EntityCondition):
                kind, names, known = "entity", condition.names, entities
            else:
                continue
            for name in sorted(set(names) - set(known)):
                problems.append(
                    RuleProblem(
                        ruleset.source,
                        condition.line,
                        f"{kind} '{name}' is not in the domain{suggest(name, known)}",
                        rule.name,
                    )
                )
    return problems
