"""Reading YAML nodes with their line numbers: the typed values a rules file is made of.

`NodeReader` turns composed YAML nodes (not loaded values: a node knows its line) into text,
numbers, durations, comparisons and channel names, recording a `RuleProblem` for each mistake and
raising `Invalid` to abandon that one value, so a file's every mistake is reported at once. The
rule and condition parsers build on it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import yaml

from handoff_component.core.rules.channels import KNOWN_CHANNELS
from handoff_component.core.rules.conditions import OPERATORS, Comparison
from handoff_component.core.rules.durations import parse_duration
from handoff_component.core.rules.problems import RuleProblem, suggest

# Longest operators first, so that "<=" is not read as "<" followed by "=".
COMPARISON = re.compile(
    r"^\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*$",
)
MAX_WINDOW = 100


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class Invalid(Exception):
    """Raised inside the parser to abandon one value after its problem was recorded."""


class NodeReader:
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

    def problem(self, node: yaml.Node | int, message: str) -> Invalid:
        line = node if isinstance(node, int) else line_of(node)
        self.problems.append(RuleProblem(self.source, line, message, self.rule, self.context))
        return Invalid(message)

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
            seen[key] = line_of(key_node)
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
                    f"unknown field '{key}'{suggest(key, allowed)}; "
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
        match = COMPARISON.match(raw) if isinstance(raw, str) else None
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
                    f"unknown channel '{name}'{suggest(name, self.known_channels)}; known: "
                    f"{', '.join(sorted(self.known_channels))} (declare a custom channel in "
                    "credentials.yml or under settings.extra_channels)",
                )
        return frozenset(names)
