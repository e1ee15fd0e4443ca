"""A Rasa bot's project directory as the plugin's tools read it, with the line of every entry.

`doctor` (and the tools that write into a bot) must point at a file and a line, so YAML is read
twice: once for its values and once composed, for where each mapping key and list item starts.
Nothing here imports Rasa: a bot is checked without loading a model or its pipeline.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# A key path inside a YAML document: mapping keys and list indexes, from the top.
KeyPath = tuple[str | int, ...]


@dataclass
class YamlFile:
    """A YAML file's values and the line (1-based) where each key path starts."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    error: str | None = None

    def line(self, *keys: str | int) -> int:
        """The line of the deepest key of `keys` that is in the file (1 for the whole file)."""
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.lines:
                return self.lines[keys[:end]]
        return 1


def _record_lines(node: yaml.Node, prefix: KeyPath, lines: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                path = (*prefix, str(key_node.value))
                lines.setdefault(path, key_node.start_mark.line + 1)
                _record_lines(value_node, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            _record_lines(item, path, lines)


def read_yaml(path: Path) -> YamlFile:
    """Read `path`; a file that cannot be read or parsed comes back with `error` set, not raised."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as error:
        return YamlFile(path, None, {}, f"cannot be read as YAML ({error})")
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return YamlFile(path, data, lines)


@dataclass
class DomainEntry:
    """One name of a domain (an intent, slot, response or action) and where it is declared."""

    name: str
    file: Path
    line: int
    value: Any = None


@dataclass
class Domain:
    """A bot's domain, merged from one file or a directory of them, each entry with its place."""

    files: list[YamlFile]
    intents: dict[str, DomainEntry] = field(default_factory=dict)
    slots: dict[str, DomainEntry] = field(default_factory=dict)
    responses: dict[str, DomainEntry] = field(default_factory=dict)
    actions: dict[str, DomainEntry] = field(default_factory=dict)
    forms: dict[str, DomainEntry] = field(default_factory=dict)

    @property
    def first_file(self) -> Path | None:
        return self.files[0].path if self.files else None


def _named_items(raw: Any) -> Iterator[tuple[int | str, str, Any]]:
    """(key in the file, name, value) of a list of names or a mapping of names."""
    if isinstance(raw, dict):
        for name, value in raw.items():
            yield str(name), str(name), value
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            if isinstance(item, dict) and len(item) == 1:
                name, value = next(iter(item.items()))
                yield index, str(name), value
            elif isinstance(item, str):
                yield index, item, None


def read_domain(path: Path) -> Domain:
    """The domain at `path`: a file, or a directory whose YAML files Rasa merges."""
    if path.is_dir():
        paths = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
    else:
        paths = [path] if path.exists() else []
    domain = Domain([read_yaml(p) for p in paths])
    for file in domain.files:
        if not isinstance(file.data, dict):
            continue
        for section in ("intents", "slots", "responses", "actions", "forms"):
            target: dict[str, DomainEntry] = getattr(domain, section)
            for key, name, value in _named_items(file.data.get(section)):
                target.setdefault(
                    name, DomainEntry(name, file.path, file.line(section, key), value)
                )
    return domain


@dataclass
class Step:
    """One step of a story, rule or test story: `kind` is "intent", "action", ...; a
    `slot_was_set` step's name is its slots, joined by commas."""

    kind: str
    name: str
    line: int


@dataclass
class Story:
    """A story, rule or test story, in the order its steps are written."""

    kind: str
    name: str
    file: Path
    line: int
    steps: list[Step]


def _steps(file: YamlFile, keys: KeyPath, raw: Any) -> list[Step]:
    steps: list[Step] = []
    if not isinstance(raw, list):
        return steps
    for index, step in enumerate(raw):
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("slot_was_set"), list):
            names = [
                str(next(iter(item))) if isinstance(item, dict) and item else str(item)
                for item in step["slot_was_set"]
            ]
            steps.append(Step("slot_was_set", ",".join(names), file.line(*keys, index)))
            continue
        for kind in ("intent", "action", "user", "active_loop", "checkpoint"):
            if kind in step and isinstance(step[kind], str | None):
                steps.append(Step(kind, str(step[kind]), file.line(*keys, index)))
                break
    return steps


def read_stories(paths: list[Path]) -> list[Story]:
    """Stories and rules of every YAML file under `paths` (Rasa's data and tests folders)."""
    found: list[Story] = []
    for root in paths:
        files = (
            [root] if root.is_file() else sorted(root.rglob("*.yml")) + sorted(root.rglob("*.yaml"))
        )
        for path in files:
            file = read_yaml(path)
            if not isinstance(file.data, dict):
                continue
            for section, kind in (("stories", "story"), ("rules", "rule")):
                entries = file.data.get(section)
                if not isinstance(entries, list):
                    continue
                for index, entry in enumerate(entries):
                    if not isinstance(entry, dict):
                        continue
                    name = str(entry.get(kind, f"{kind} {index + 1}"))
                    steps = _steps(file, (section, index, "steps"), entry.get("steps"))
                    found.append(Story(kind, name, path, file.line(section, index), steps))
    return found


@dataclass
class ActionClass:
    """A custom action class in the bot's action package: the name its `name()` returns."""

    action_name: str
    class_name: str
    file: Path
    line: int


@dataclass
class ActionPackage:
    """What the bot's action server registers, read from its source without importing it."""

    files: list[Path]
    actions: list[ActionClass]
    imports_plugin_actions: bool


def read_action_package(bot_dir: Path) -> ActionPackage:
    """The `actions` package (or `actions.py`) of the bot, as Rasa's `rasa run actions` finds it."""
    package = bot_dir / "actions"
    if package.is_dir():
        files = sorted(package.rglob("*.py"))
    elif (bot_dir / "actions.py").exists():
        files = [bot_dir / "actions.py"]
    else:
        files = []
    actions: list[ActionClass] = []
    imports_plugin = False
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "handoff_component"
            ):
                imports_plugin = True
            if isinstance(node, ast.ClassDef):
                name = _returned_name(node)
                if name is not None:
                    actions.append(ActionClass(name, node.name, path, node.lineno))
    return ActionPackage(files, actions, imports_plugin)


def _returned_name(cls: ast.ClassDef) -> str | None:
    """The string a class's `name()` method returns, when it is a literal."""
    for item in cls.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "name":
            for statement in ast.walk(item):
                if (
                    isinstance(statement, ast.Return)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ):
                    return statement.value.value
    return None
