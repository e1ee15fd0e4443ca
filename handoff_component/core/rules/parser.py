"""Reading `handoff.yml` into a RuleSet, with every mistake reported as `file:line: rule: what`.

The file is composed into YAML nodes (not loaded into plain dicts) so that each value keeps the
line it was written on; all problems found are reported together, so a designer fixes a file in
one pass rather than one error per `rasa train`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from handoff_component.core.rules.channels import KNOWN_CHANNELS, channels_from_credentials
from handoff_component.core.rules.condition_parser import ConditionParser
from handoff_component.core.rules.model import (
    DEFAULT_PRIORITY,
    DEFAULT_SAFETY_NET_KEY,
    PRIORITY_RANK,
    ChannelSafetyNet,
    RuleSet,
    TriggerRule,
)
from handoff_component.core.rules.problems import RuleProblem, RulesFileError, suggest
from handoff_component.core.rules.settings import RuleSettings
from handoff_component.core.rules.yaml_nodes import Invalid, line_of

SUPPORTED_VERSIONS = ("1",)
TOP_LEVEL_FIELDS = ("version", "settings", "safety_net", "rules")
RULE_FIELDS = (
    "name",
    "description",
    "enabled",
    "when",
    "team",
    "priority",
    "channels",
    "cooldown",
    "move_open_ticket",
)
SAFETY_NET_FIELDS = ("auto_pause", "cooldown", "unclaimed_timeout")
SETTINGS_FIELDS = tuple(f.name for f in fields(RuleSettings) if f.init)
_RULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class RulesParser(ConditionParser):
    """A whole rules file: version, settings, safety nets and rules (conditions: the base)."""

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
        except Invalid:
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
                    elif key == "action_name":
                        values[key] = self.action_name(value)
                    else:
                        values[key] = tuple(self.texts(value, key))
                except Invalid:
                    continue
        except Invalid:
            pass
        self.context = None
        return RuleSettings(**values)

    def action_name(self, node: yaml.Node) -> str:
        name = self.text(node, "action_name")
        if not name.startswith("action_") or not name.replace("_", "").isalnum():
            raise self.problem(
                node,
                f"action_name '{name}' must be an action name: 'action_' followed by letters, "
                "digits and underscores (e.g. action_handoff_to_human)",
            )
        return name

    def safety_nets(self, node: yaml.Node) -> dict[str, ChannelSafetyNet]:
        try:
            entries = self.mapping(node, "safety_net")
        except Invalid:
            return {}
        parsed: dict[str, tuple[int, dict[str, Any]]] = {}
        for channel, key_node, value_node in entries:
            self.context = f"safety_net '{channel}'"
            if channel != DEFAULT_SAFETY_NET_KEY and channel not in self.known_channels:
                self.problem(
                    key_node,
                    f"unknown channel '{channel}'{suggest(channel, self.known_channels)}; "
                    f"use '{DEFAULT_SAFETY_NET_KEY}' or one of: "
                    f"{', '.join(sorted(self.known_channels))}",
                )
                continue
            values: dict[str, Any] = {}
            try:
                found = self.known_fields(
                    self.mapping(value_node, "a safety net"), SAFETY_NET_FIELDS
                )
            except Invalid:
                continue
            for key, field_node in found.items():
                try:
                    if key == "auto_pause":
                        values[key] = self.boolean(field_node, key)
                    elif key == "cooldown":
                        values[key] = self.duration(field_node, key)
                    else:
                        values[key] = self.duration(field_node, key, positive=True)
                except Invalid:
                    continue
            parsed[channel] = (line_of(key_node), values)
        self.context = None
        base = parsed.get(DEFAULT_SAFETY_NET_KEY, (0, {}))[1]
        return {
            channel: ChannelSafetyNet(channel=channel, line=line, **{**base, **values})
            for channel, (line, values) in parsed.items()
        }

    def rules(self, node: yaml.Node) -> tuple[TriggerRule, ...]:
        try:
            items = self.sequence(node, "rules")
        except Invalid:
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
                first_line[name] = line_of(item)
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
        except Invalid:
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
                    elif key in ("enabled", "move_open_ticket"):
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
                except Invalid:
                    continue
            if len(self.problems) > before:
                return None
            return TriggerRule(
                name=name,
                priority=attributes.pop("priority", DEFAULT_PRIORITY),
                line=line_of(node),
                **attributes,
            )
        except Invalid:
            return None
        finally:
            self.rule = None


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
        return RulesParser(source, known_channels, import_hooks).parse(text)
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
