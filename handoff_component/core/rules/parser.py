"""Reading `handoff.yml` into a RuleSet, with every mistake reported as `file:line: rule: what`.

The file is composed into YAML nodes (not loaded into plain dicts) so that each value keeps the
line it was written on; all problems found are reported together, so a designer fixes a file in
one pass rather than one error per `rasa train`.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from handoff_component.contract.scores import SCORE_NAMES, SCORE_RANGES
from handoff_component.core.rules.channels import KNOWN_CHANNELS, channels_from_credentials
from handoff_component.core.rules.conditions import (
    OPERATORS,
    TREND_RANGE,
    AllOf,
    AnyOf,
    AverageCondition,
    Comparison,
    Condition,
    CountCondition,
    CustomCondition,
    EntityCondition,
    IntentCondition,
    KeywordCondition,
    Not,
    ScoreCondition,
    TrendCondition,
)
from handoff_component.core.rules.durations import parse_duration
from handoff_component.core.rules.model import (
    DEFAULT_PRIORITY,
    DEFAULT_SAFETY_NET_KEY,
    PRIORITY_RANK,
    ChannelSafetyNet,
    RuleSet,
    RuleSettings,
    TriggerRule,
)
from handoff_component.core.rules.text import fold

SUPPORTED_VERSIONS = ("1",)
TOP_LEVEL_FIELDS = ("version", "settings", "safety_net", "rules")
# Deeper than any rule a person writes (a `not:` inside an `any:` inside ... ), shallow enough
# that the recursive parser never nears Python's recursion limit.
MAX_CONDITION_DEPTH = 32
RULE_FIELDS = ("name", "description", "enabled", "when", "team", "priority", "channels", "cooldown")
SAFETY_NET_FIELDS = ("auto_pause", "cooldown", "unclaimed_timeout")
SETTINGS_FIELDS = tuple(f.name for f in fields(RuleSettings) if f.init)
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
# Longest operators first, so that "<=" is not read as "<" followed by "=".
_COMPARISON = re.compile(
    r"^\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*$",
)
_RULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_HOOK_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
MAX_WINDOW = 100


@dataclass(frozen=True)
class RuleProblem:
    """One mistake in a rules file; `context` says which part (a rule, a safety net, ...)."""

    file: str
    line: int
    message: str
    rule: str | None = None
    context: str | None = None

    def __str__(self) -> str:
        where = self.context or (f"rule '{self.rule}'" if self.rule else None)
        return (
            f"{self.file}:{self.line}: {where}: {self.message}"
            if where
            else (f"{self.file}:{self.line}: {self.message}")
        )


class RulesFileError(ValueError):
    """A rules file that cannot be used; `problems` lists every mistake found, and `file`,
    `line`, `rule` and `message` repeat the first one for callers that need only one."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        if not problems:
            raise ValueError("RulesFileError needs at least one problem")
        self.problems = problems
        first = problems[0]
        self.file, self.line, self.rule, self.message = (
            first.file,
            first.line,
            first.rule,
            first.message,
        )
        super().__init__("\n".join(str(p) for p in problems))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Invalid(Exception):
    """Raised inside the parser to abandon one value after its problem was recorded."""


class _Parser:
    def __init__(
        self, source: str, known_channels: Collection[str] | None, import_hooks: bool
    ) -> None:
        self.source = source
        self.known_channels = set(KNOWN_CHANNELS if known_channels is None else known_channels)
        self.import_hooks = import_hooks
        self.problems: list[RuleProblem] = []
        self.rule: str | None = None
        self.context: str | None = None
        self._constructor = yaml.SafeLoader("")

    # --- reporting ---------------------------------------------------------------------------

    def problem(self, node: yaml.Node | int, message: str) -> _Invalid:
        line = node if isinstance(node, int) else _line(node)
        self.problems.append(RuleProblem(self.source, line, message, self.rule, self.context))
        return _Invalid(message)

    # --- node access -------------------------------------------------------------------------

    def plain(self, node: yaml.Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping, refusing duplicate keys, which plain YAML
        loading would silently resolve to the last one."""
        if not isinstance(node, yaml.MappingNode):
            raise self.problem(node, f"{what} must be a mapping of fields")
        items: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.plain(key_node)
            if not isinstance(key, str):
                self.problem(key_node, f"field names must be text, got {key!r}")
                continue
            if key in seen:
                self.problem(key_node, f"field '{key}' given twice (first at line {seen[key]})")
                continue
            seen[key] = _line(key_node)
            items.append((key, key_node, value_node))
        return items

    def known_fields(
        self, items: list[tuple[str, yaml.Node, yaml.Node]], allowed: Collection[str]
    ) -> dict[str, yaml.Node]:
        result: dict[str, yaml.Node] = {}
        for key, key_node, value_node in items:
            if key not in allowed:
                self.problem(
                    key_node,
                    f"unknown field '{key}'{_suggest(key, allowed)}; "
                    f"expected one of: {', '.join(allowed)}",
                )
                continue
            result[key] = value_node
        return result

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.problem(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.plain(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, str) or not value.strip():
            raise self.problem(node, f"{what} must be a non-empty text")
        return value.strip()

    def texts(self, node: yaml.Node, what: str) -> list[str]:
        """A text or a list of texts."""
        if isinstance(node, yaml.SequenceNode):
            values = [self.text(item, what) for item in node.value]
            if not values:
                raise self.problem(node, f"{what} must not be an empty list")
            return values
        return [self.text(node, what)]

    def boolean(self, node: yaml.Node, what: str) -> bool:
        value = self.plain(node)
        if not isinstance(value, bool):
            raise self.problem(node, f"{what} must be true or false, got {value!r}")
        return value

    def number(
        self, node: yaml.Node, what: str, low: float, high: float, integer: bool = False
    ) -> float:
        value = self.plain(node)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.problem(node, f"{what} must be a number, got {value!r}")
        if integer and value != int(value):
            raise self.problem(node, f"{what} must be a whole number, got {value!r}")
        if not low <= value <= high:
            raise self.problem(node, f"{what} {value:g} out of range ({low:g}..{high:g})")
        return int(value) if integer else float(value)

    def duration(self, node: yaml.Node, what: str, positive: bool = False) -> float:
        try:
            seconds = parse_duration(self.plain(node))
        except ValueError as error:
            raise self.problem(node, f"{what}: {error}") from None
        if positive and seconds <= 0:
            raise self.problem(node, f"{what} must be longer than 0s")
        return seconds

    def comparison(
        self, node: yaml.Node, what: str, low: float, high: float, integer: bool = False
    ) -> Comparison:
        raw = self.plain(node) if isinstance(node, yaml.ScalarNode) else None
        match = _COMPARISON.match(raw) if isinstance(raw, str) else None
        if match is None:
            raise self.problem(
                node,
                f"bad comparison {raw!r} for {what}: write an operator "
                f'({", ".join(sorted(OPERATORS, key=len))}) and a number, e.g. "<= -0.6" '
                f"(quote it: YAML reads a leading '>' as a block)",
            )
        op, number = match.group(1), float(match.group(2))
        if not low <= number <= high:
            raise self.problem(
                node, f"threshold {number:g} out of range for {what} ({low:g}..{high:g})"
            )
        if integer and number != int(number):
            raise self.problem(node, f"threshold {number:g} for {what} must be a whole number")
        return Comparison(op, number)

    def window(self, node: yaml.Node, what: str, minimum: int = 1) -> int:
        return int(self.number(node, what, minimum, MAX_WINDOW, integer=True))

    def channels(self, node: yaml.Node, what: str) -> frozenset[str]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            raise self.problem(node, f"{what} must not be an empty list")
        names = [self.text(item, what) for item in items]
        for name, item in zip(names, items, strict=True):
            if name not in self.known_channels:
                self.problem(
                    item,
                    f"unknown channel '{name}'{_suggest(name, self.known_channels)}; known: "
                    f"{', '.join(sorted(self.known_channels))} (declare a custom channel in "
                    "credentials.yml or under settings.extra_channels)",
                )
        return frozenset(names)

    # --- the file ----------------------------------------------------------------------------

    def parse(self, text: str) -> RuleSet:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            hint = ""
            if "block scalar" in str(error) or "chomping" in str(error):
                hint = ' (a comparison starting with ">" must be quoted: ">= 0.8")'
            if isinstance(error, yaml.MarkedYAMLError):
                mark = error.problem_mark or error.context_mark
                problem = error.problem or str(error)
                line = mark.line + 1 if mark else 1
            else:  # e.g. a control character: the reader knows only its position
                position = getattr(error, "position", 0) or 0
                problem = str(error).splitlines()[0]
                line = text.count("\n", 0, position) + 1
            raise RulesFileError(
                [RuleProblem(self.source, line, problem + hint, _enclosing_rule(text, line))]
            ) from None
        if root is None:
            raise RulesFileError([RuleProblem(self.source, 1, "the file is empty")])
        try:
            top = self.known_fields(self.mapping(root, "the rules file"), TOP_LEVEL_FIELDS)
        except _Invalid:
            raise RulesFileError(self.problems) from None

        if "version" in top:
            version = str(self.plain(top["version"]))
            if version not in SUPPORTED_VERSIONS:
                self.problem(
                    top["version"],
                    f"unsupported version {version!r}; supported: {', '.join(SUPPORTED_VERSIONS)}",
                )
        settings = self.settings(top["settings"]) if "settings" in top else RuleSettings()
        self.known_channels.update(settings.extra_channels)
        safety_nets = self.safety_nets(top["safety_net"]) if "safety_net" in top else {}
        rules: tuple[TriggerRule, ...] = ()
        if "rules" not in top:
            self.problem(root, "the file has no 'rules:' list")
        else:
            rules = self.rules(top["rules"])
        if self.problems:
            raise RulesFileError(sorted(self.problems, key=lambda p: p.line))
        return RuleSet(rules=rules, safety_nets=safety_nets, settings=settings, source=self.source)

    def settings(self, node: yaml.Node) -> RuleSettings:
        self.context = "settings"
        values: dict[str, Any] = {}
        try:
            found = self.known_fields(self.mapping(node, "settings"), SETTINGS_FIELDS)
            for key, value in found.items():
                try:
                    if key == "rephrase_similarity":
                        values[key] = self.number(value, key, 0.01, 1.0)
                    elif key in ("rephrase_window", "rephrase_min_words"):
                        values[key] = self.window(value, key)
                    else:
                        values[key] = tuple(self.texts(value, key))
                except _Invalid:
                    continue
        except _Invalid:
            pass
        self.context = None
        return RuleSettings(**values)

    def safety_nets(self, node: yaml.Node) -> dict[str, ChannelSafetyNet]:
        try:
            entries = self.mapping(node, "safety_net")
        except _Invalid:
            return {}
        parsed: dict[str, tuple[int, dict[str, Any]]] = {}
        for channel, key_node, value_node in entries:
            self.context = f"safety_net '{channel}'"
            if channel != DEFAULT_SAFETY_NET_KEY and channel not in self.known_channels:
                self.problem(
                    key_node,
                    f"unknown channel '{channel}'{_suggest(channel, self.known_channels)}; "
                    f"use '{DEFAULT_SAFETY_NET_KEY}' or one of: "
                    f"{', '.join(sorted(self.known_channels))}",
                )
                continue
            values: dict[str, Any] = {}
            try:
                found = self.known_fields(
                    self.mapping(value_node, "a safety net"), SAFETY_NET_FIELDS
                )
            except _Invalid:
                continue
            for key, field_node in found.items():
                try:
                    if key == "auto_pause":
                        values[key] = self.boolean(field_node, key)
                    elif key == "cooldown":
                        values[key] = self.duration(field_node, key)
                    else:
                        values[key] = self.duration(field_node, key, positive=True)
                except _Invalid:
                    continue
            parsed[channel] = (_line(key_node), values)
        self.context = None
        base = parsed.get(DEFAULT_SAFETY_NET_KEY, (0, {}))[1]
        return {
            channel: ChannelSafetyNet(channel=channel, line=line, **{**base, **values})
            for channel, (line, values) in parsed.items()
        }

    def rules(self, node: yaml.Node) -> tuple[TriggerRule, ...]:
        try:
            items = self.sequence(node, "rules")
        except _Invalid:
            return ()
        rules: list[TriggerRule] = []
        first_line: dict[str, int] = {}
        for item in items:
            name = self.rule_name(item)
            if name is not None and name in first_line:
                self.rule = name
                self.problem(
                    item, f"duplicate rule name '{name}' (first defined at line {first_line[name]})"
                )
                self.rule = None
                continue
            if name is not None:
                first_line[name] = _line(item)
            rule = self.trigger_rule(item)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def rule_name(self, node: yaml.Node) -> str | None:
        """The rule's name read ahead, so every problem in the rule can say which rule it is."""
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == "name":
                    raw = self.plain(value_node)
                    return raw.strip() if isinstance(raw, str) and raw.strip() else None
        return None

    def trigger_rule(self, node: yaml.Node) -> TriggerRule | None:
        name = self.rule_name(node)
        self.rule = name
        try:
            items = self.mapping(node, "a rule")
        except _Invalid:
            self.rule = None
            return None
        by_key = {key: value for key, _k, value in items}
        before = len(self.problems)
        try:
            found = self.known_fields(items, RULE_FIELDS)
            if name is None and "name" in by_key and self.plain(by_key["name"]) is not None:
                raise self.problem(
                    by_key["name"],
                    f"rule name {self.plain(by_key['name'])!r} is not text: quote it "
                    "(YAML reads off, no, yes, on and numbers as other values)",
                )
            if name is None:
                where = by_key.get("name", node)
                raise self.problem(where, "every rule needs a 'name' (letters, digits, _ or -)")
            if not _RULE_NAME.match(name):
                raise self.problem(
                    by_key["name"],
                    f"rule name {name!r} must start with a letter or _ and hold only letters, "
                    "digits, _ or -",
                )
            if "when" not in found:
                raise self.problem(node, "the rule has no 'when:' condition")
            attributes: dict[str, Any] = {}
            for key, value in found.items():
                try:
                    if key == "when":
                        attributes["condition"] = self.condition(value)
                    elif key == "description":
                        attributes[key] = self.text(value, key)
                    elif key == "enabled":
                        attributes[key] = self.boolean(value, key)
                    elif key == "team":
                        attributes[key] = self.text(value, key)
                    elif key == "priority":
                        priority = self.plain(value)
                        if not isinstance(priority, str) or priority not in PRIORITY_RANK:
                            raise self.problem(
                                value,
                                f"unknown priority {priority!r}; expected one of: "
                                f"{', '.join(PRIORITY_RANK)}",
                            )
                        attributes[key] = priority
                    elif key == "channels":
                        attributes[key] = self.channels(value, key)
                    elif key == "cooldown":
                        attributes[key] = self.duration(value, key)
                except _Invalid:
                    continue
            if len(self.problems) > before:
                return None
            return TriggerRule(
                name=name,
                priority=attributes.pop("priority", DEFAULT_PRIORITY),
                line=_line(node),
                **attributes,
            )
        except _Invalid:
            return None
        finally:
            self.rule = None

    # --- conditions --------------------------------------------------------------------------

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
            return AllOf(self.condition_list(node.value), line=_line(node))
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
                    f"unknown condition '{kind}'{_suggest(kind, CONDITION_KINDS)}; expected one "
                    f"of: {', '.join(CONDITION_KINDS)}",
                )
                failed = True
                continue
            try:
                parts.append(self.one_condition(kind, value, _line(key_node)))
            except _Invalid:
                failed = True
        if failed or not parts:
            raise _Invalid("condition")
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts), line=_line(node))

    def condition_list(self, items: list[yaml.Node]) -> tuple[Condition, ...]:
        """Every item parsed, so that all broken items are reported, not only the first."""
        children: list[Condition] = []
        failed = False
        for item in items:
            try:
                children.append(self.condition(item))
            except _Invalid:
                failed = True
        if failed:
            raise _Invalid("conditions")
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
                    f"unknown score '{score}'{_suggest(score, SCORE_NAMES)}; expected one of: "
                    f"{', '.join(SCORE_NAMES)}",
                )
        if "last" not in found or "is" not in found:
            raise self.problem(line, f"'{kind}' needs 'last' (a number of turns) and 'is'")
        last = self.window(found["last"], "last", minimum=2 if kind == "trend" else 1)
        low, high = SCORE_RANGES[score] if kind == "average" else TREND_RANGE
        comparison = self.comparison(found["is"], f"{kind} of {score}", low, high)
        if kind == "average":
            return AverageCondition(score, last, comparison, line)
        return TrendCondition(score, last, comparison, line)

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


_NAME_LINE = re.compile(r"^\s*-?\s*\{?\s*name:\s*[\"']?([A-Za-z_][\w\-]*)")


def _enclosing_rule(text: str, line: int) -> str | None:
    """The rule a YAML syntax error is in, read from the nearest `name:` above it: the file
    cannot be composed, so this is the best guess, and right for the usual layout."""
    for above in reversed(text.splitlines()[:line]):
        if above and not above[0].isspace() and not above.startswith("-"):
            return None  # reached a top-level key: not inside a rule
        found = _NAME_LINE.match(above)
        if found:
            return found.group(1)
    return None


def _not_imported(path: str) -> Callable[..., Any]:
    def unavailable(_view: Any) -> Any:
        raise RuntimeError(f"custom condition {path} was parsed without importing hooks")

    return unavailable


def parse_ruleset(
    text: str,
    source: str = "handoff.yml",
    known_channels: Collection[str] | None = None,
    import_hooks: bool = True,
) -> RuleSet:
    """Parse a rules file's text; raises RulesFileError listing every problem.

    `known_channels` replaces the built-in channel names (pass KNOWN_CHANNELS plus the bot's
    credentials keys); `import_hooks=False` skips importing custom conditions, for tools that
    only inspect a file.
    """
    try:
        return _Parser(source, known_channels, import_hooks).parse(text)
    except RecursionError:
        # YAML's composer recurses once per level of nesting, before any rule is looked at.
        raise RulesFileError(
            [RuleProblem(source, 1, "the file is nested too deeply to be a rules file")]
        ) from None


def load_ruleset(
    path: str | Path,
    credentials: str | Path | None = "credentials.yml",
    import_hooks: bool = True,
) -> RuleSet:
    """Read and parse a rules file; channel names declared in `credentials` are accepted too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesFileError(
            [RuleProblem(str(path), 0, f"cannot read the rules file ({error.strerror})")]
        ) from None
    except UnicodeDecodeError as error:
        # A binary file, or another encoding: name the line of the first bad byte.
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise RulesFileError(
            [
                RuleProblem(
                    str(path),
                    line,
                    f"the rules file is not UTF-8 text (byte 0x{error.object[error.start]:02x} "
                    f"at offset {error.start})",
                )
            ]
        ) from None
    known = set(KNOWN_CHANNELS)
    if credentials is not None:
        known |= channels_from_credentials(credentials)
    return parse_ruleset(text, str(path), known, import_hooks)


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
                        f"{kind} '{name}' is not in the domain{_suggest(name, known)}",
                        rule.name,
                    )
                )
    return problems
