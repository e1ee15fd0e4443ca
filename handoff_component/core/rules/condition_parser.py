"""The `when:` of a trigger rule: YAML nodes to Condition objects, every mistake on its line."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Collection
from typing import Any

import yaml

from handoff_component.contract.scores import SCORE_NAMES, SCORE_RANGES
from handoff_component.core.rules.conditions import (
    TREND_RANGE,
    AllOf,
    AnyOf,
    Condition,
    CountCondition,
    CustomCondition,
    EntityCondition,
    IntentCondition,
    KeywordCondition,
    Not,
    ScoreCondition,
    WindowCondition,
)
from handoff_component.core.rules.problems import suggest
from handoff_component.core.rules.text import fold
from handoff_component.core.rules.yaml_nodes import Invalid, NodeReader, line_of

# Deeper than any rule a person writes (a `not:` inside an `any:` inside ... ), shallow enough
# that the recursive parser never nears Python's recursion limit.
MAX_CONDITION_DEPTH = 32
COUNTERS = ("message_count", "failed_attempts", "fallbacks", "rephrasings")
CONDITION_KINDS = (
    *SCORE_NAMES,
    "average",
    "trend",
    *COUNTERS,
    "intent",
    "entity",
    "keywords",
    "all",
    "any",
    "not",
    "custom",
)
_HOOK_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ConditionParser(NodeReader):
    """Conditions, with `import_hooks` deciding whether custom conditions are imported."""

    def condition(self, node: yaml.Node) -> Condition:
        """A mapping of one condition kind, several (all must hold), or a list (all).

        Nesting is bounded, so a pathological file is a problem on its line rather than a
        RecursionError from deep inside the parser.
        """
        depth = getattr(self, "_depth", 0)
        if depth >= MAX_CONDITION_DEPTH:
            raise self.problem(
                node, f"conditions are nested more than {MAX_CONDITION_DEPTH} levels deep"
            )
        self._depth = depth + 1
        try:
            return self._condition(node)
        finally:
            self._depth = depth

    def _condition(self, node: yaml.Node) -> Condition:
        if isinstance(node, yaml.SequenceNode):
            if not node.value:
                raise self.problem(node, "an empty list of conditions")
            return AllOf(self.condition_list(node.value), line=line_of(node))
        if not isinstance(node, yaml.MappingNode):
            raise self.problem(
                node,
                f'a condition must be a mapping such as `sentiment: "<= -0.6"`, got '
                f"{self.plain(node)!r}",
            )
        items = self.mapping(node, "a condition")
        parts: list[Condition] = []
        failed = False
        for kind, key_node, value in items:
            if kind not in CONDITION_KINDS:
                self.problem(
                    key_node,
                    f"unknown condition '{kind}'{suggest(kind, CONDITION_KINDS)}; expected one "
                    f"of: {', '.join(CONDITION_KINDS)}",
                )
                failed = True
                continue
            try:
                parts.append(self.one_condition(kind, value, line_of(key_node)))
            except Invalid:
                failed = True
        if failed or not parts:
            raise Invalid("condition")
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts), line=line_of(node))

    def condition_list(self, items: list[yaml.Node]) -> tuple[Condition, ...]:
        """Every item parsed, so that all broken items are reported, not only the first."""
        children: list[Condition] = []
        failed = False
        for item in items:
            try:
                children.append(self.condition(item))
            except Invalid:
                failed = True
        if failed:
            raise Invalid("conditions")
        return tuple(children)

    def options(self, node: yaml.Node, kind: str, allowed: Collection[str]) -> dict[str, yaml.Node]:
        return self.known_fields(self.mapping(node, f"'{kind}'"), allowed)

    def one_condition(self, kind: str, node: yaml.Node, line: int) -> Condition:
        if kind in SCORE_NAMES:
            return ScoreCondition(kind, self.comparison(node, kind, *SCORE_RANGES[kind]), line)
        if kind in ("average", "trend"):
            return self.window_condition(kind, node, line)
        if kind in COUNTERS:
            return self.count_condition(kind, node, line)
        if kind == "intent":
            return self.intent_condition(node, line)
        if kind == "entity":
            return self.entity_condition(node, line)
        if kind == "keywords":
            return self.keyword_condition(node, line)
        if kind in ("all", "any"):
            items = self.sequence(node, kind)
            if not items:
                raise self.problem(node, f"'{kind}' needs at least one condition")
            children = self.condition_list(items)
            return AllOf(children, line) if kind == "all" else AnyOf(children, line)
        if kind == "not":
            return Not(self.condition(node), line)
        return self.custom_condition(node, line)

    def window_condition(self, kind: str, node: yaml.Node, line: int) -> Condition:
        found = self.options(node, kind, ("score", "last", "is"))
        score = "sentiment"
        if "score" in found:
            score = self.text(found["score"], "score")
            if score not in SCORE_NAMES:
                raise self.problem(
                    found["score"],
                    f"unknown score '{score}'{suggest(score, SCORE_NAMES)}; expected one of: "
                    f"{', '.join(SCORE_NAMES)}",
                )
        if "last" not in found or "is" not in found:
            raise self.problem(line, f"'{kind}' needs 'last' (a number of turns) and 'is'")
        last = self.window(found["last"], "last", minimum=2 if kind == "trend" else 1)
        low, high = SCORE_RANGES[score] if kind == "average" else TREND_RANGE
        comparison = self.comparison(found["is"], f"{kind} of {score}", low, high)
        return WindowCondition(kind, score, last, comparison, line)

    def count_condition(self, kind: str, node: yaml.Node, line: int) -> Condition:
        if isinstance(node, yaml.ScalarNode):
            return CountCondition(
                kind, self.comparison(node, kind, 0, 10_000, integer=True), line=line
            )
        allowed = ("is", "within_last") + (() if kind == "message_count" else ("consecutive",))
        found = self.options(node, kind, allowed)
        if "is" not in found:
            raise self.problem(line, f"'{kind}' needs 'is', e.g. is: \">= 3\"")
        return CountCondition(
            kind,
            self.comparison(found["is"], kind, 0, 10_000, integer=True),
            within_last=self.window(found["within_last"], "within_last")
            if "within_last" in found
            else None,
            consecutive=self.boolean(found["consecutive"], "consecutive")
            if "consecutive" in found
            else False,
            line=line,
        )

    def intent_condition(self, node: yaml.Node, line: int) -> Condition:
        if not isinstance(node, yaml.MappingNode):
            return IntentCondition(frozenset(self.texts(node, "intent")), line=line)
        found = self.options(node, "intent", ("name", "min_confidence", "within_last"))
        if "name" not in found:
            raise self.problem(line, "'intent' needs 'name' (an intent or a list)")
        return IntentCondition(
            frozenset(self.texts(found["name"], "name")),
            min_confidence=self.number(found["min_confidence"], "min_confidence", 0, 1)
            if "min_confidence" in found
            else 0.0,
            within_last=self.window(found["within_last"], "within_last")
            if "within_last" in found
            else 1,
            line=line,
        )

    def entity_condition(self, node: yaml.Node, line: int) -> Condition:
        if not isinstance(node, yaml.MappingNode):
            return EntityCondition(frozenset(self.texts(node, "entity")), line=line)
        found = self.options(node, "entity", ("name", "value", "within_last"))
        if "name" not in found:
            raise self.problem(line, "'entity' needs 'name' (an entity or a list)")
        values = None
        if "value" in found:
            raw = self.plain(found["value"])
            raw_list = raw if isinstance(raw, list) else [raw]
            if not raw_list or any(v is None or isinstance(v, dict | list) for v in raw_list):
                raise self.problem(found["value"], "'value' must be a value or a list of values")
            values = frozenset(str(v).casefold() for v in raw_list)
        return EntityCondition(
            frozenset(self.texts(found["name"], "name")),
            values=values,
            within_last=self.window(found["within_last"], "within_last")
            if "within_last" in found
            else 1,
            line=line,
        )

    def keyword_condition(self, node: yaml.Node, line: int) -> Condition:
        within_last = 1
        if isinstance(node, yaml.MappingNode):
            found = self.options(node, "keywords", ("any", "within_last"))
            if "any" not in found:
                raise self.problem(line, "'keywords' needs 'any' (a list of words or phrases)")
            if "within_last" in found:
                within_last = self.window(found["within_last"], "within_last")
            node = found["any"]
        phrases = self.texts(node, "keywords")
        needles = []
        for phrase in phrases:
            prefix = phrase.endswith("*")
            folded = fold(phrase.rstrip("*"))
            if not folded:
                raise self.problem(node, f"keyword {phrase!r} has no letters or digits")
            needles.append(f" {folded}" if prefix else f" {folded} ")
        return KeywordCondition(tuple(phrases), tuple(needles), within_last, line)

    def custom_condition(self, node: yaml.Node, line: int) -> Condition:
        comparison = None
        if isinstance(node, yaml.MappingNode):
            found = self.options(node, "custom", ("function", "is"))
            if "function" not in found:
                raise self.problem(line, "'custom' needs 'function: package.module:function'")
            if "is" in found:
                comparison = self.comparison(found["is"], "custom", -1e9, 1e9)
            node = found["function"]
        path = self.text(node, "custom")
        if not _HOOK_PATH.match(path):
            raise self.problem(
                node, f"custom condition {path!r} must be written package.module:function"
            )
        function = self.import_hook(path, node) if self.import_hooks else _not_imported(path)
        return CustomCondition(path, function, comparison, line)

    def import_hook(self, path: str, node: yaml.Node) -> Callable[..., Any]:
        module_name, attribute = path.split(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as error:
            raise self.problem(
                node,
                f"custom condition {path!r}: cannot import module '{module_name}' "
                f"({type(error).__name__}: {error})",
            ) from None
        function = getattr(module, attribute, None)
        if not callable(function):
            raise self.problem(
                node, f"custom condition {path!r}: '{module_name}' has no function '{attribute}'"
            )
        return function


def _not_imported(path: str) -> Callable[..., Any]:
    def unavailable(_view: Any) -> Any:
        raise RuntimeError(f"custom condition {path} was parsed without importing hooks")

    return unavailable
