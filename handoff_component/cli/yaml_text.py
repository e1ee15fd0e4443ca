"""Edits of a YAML file somebody wrote, made on its text so its comments, order and quoting stay.

`init` adds the plugin's entries to a bot's config.yml, domain and endpoints. Loading and dumping
the YAML would reflow every line the builder wrote (their comments, quotes and indentation), and
the diff they are asked to confirm would be the whole file. So the edits here work on top-level
blocks and their children as lines: add children at the end (or the start) of a block, in the
block's own indentation, or replace one block. The caller parses the result to check it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

_TOP_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s#'"\-?][^:#]*?)\s*:(?:\s+(?P<rest>.*))?$""")
_DOCUMENT_MARK = re.compile(r"^(---|\.\.\.)(\s|$)")


class YamlEditError(ValueError):
    """An edit the text's shape does not allow (a flow mapping, a key on several lines)."""


@dataclass(frozen=True)
class Block:
    """A top-level key of a YAML file: its line, its content's lines, and what follows its colon."""

    key: str
    start: int  # index of the key's line
    end: int  # index after its last indented line (trailing blanks and comments excluded)
    inline: str  # the value written on the key's own line ("" when the value is indented below)


def _is_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def blocks(text: str) -> dict[str, Block]:
    """The top-level keys of a YAML mapping document, each with its lines (first occurrence)."""
    lines = text.splitlines()
    found: dict[str, Block] = {}
    starts: list[tuple[int, str, str]] = []
    for index, line in enumerate(lines):
        if not line or line[0] in " \t#" or _DOCUMENT_MARK.match(line):
            continue
        match = _TOP_KEY.match(line)
        if match:
            key = match.group("key").strip("\"'")
            rest = (match.group("rest") or "").strip()
            starts.append((index, key, "" if rest.startswith("#") else rest))
    for number, (start, key, inline) in enumerate(starts):
        limit = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        end = start + 1
        for index in range(start + 1, limit):
            line = lines[index]
            if line.strip() and line[0] in " \t":
                end = index + 1
            elif line.strip() and not line.startswith("#"):
                break
        found.setdefault(key, Block(key, start, end, _strip_comment(inline)))
    return found


def _strip_comment(value: str) -> str:
    if not value or value[0] in "\"'":
        return value
    return value.split(" #", 1)[0].strip()


def child_indent(text: str, block: Block) -> tuple[int, bool] | None:
    """The indentation of a block's first child line, and whether its children are list items."""
    lines = text.splitlines()
    for line in lines[block.start + 1 : block.end]:
        if _is_content(line):
            stripped = line.lstrip(" ")
            return len(line) - len(stripped), stripped.startswith("- ") or stripped == "-"
    return None


def indent(lines: list[str], spaces: int) -> list[str]:
    return [(" " * spaces + line) if line.strip() else "" for line in lines]


def _join(lines: list[str]) -> str:
    """Lines as a file's text; files written here always end with a newline."""
    return "\n".join(lines) + "\n" if lines else ""


def _expand_inline(lines: list[str], block: Block, is_list: bool) -> int:
    """Rewrite a key whose value is on its own line (`actions: [a, b]`, `slots: {}`) as a block.

    Returns how many child lines now follow the key. A flow value that is not a plain list of
    names (or empty) is refused: rewriting it would change more than the builder can review.
    """
    if not block.inline:
        return 0
    if block.end != block.start + 1:
        raise YamlEditError(f"{block.key}: a value on the key's line and below it")
    try:
        value = yaml.safe_load(block.inline)
    except yaml.YAMLError as error:
        raise YamlEditError(f"{block.key}: {error}") from None
    if value in (None, [], {}):
        children: list[str] = []
    elif is_list and isinstance(value, list) and all(isinstance(v, str) for v in value):
        children = [f"  - {v}" for v in value]
    else:
        raise YamlEditError(f"{block.key}: written in flow style ({block.inline})")
    lines[block.start : block.start + 1] = [f"{block.key}:", *children]
    return len(children)


def add_children(
    text: str, key: str, children: list[str], *, is_list: bool, first: bool = False
) -> str:
    """`children` (lines written at indentation 0) added under the top-level `key`.

    At the end of the block, or at its start with `first`, in the block's own indentation; a key
    the file lacks is appended at the end of the file.
    """
    lines = text.splitlines()
    found = blocks(text).get(key)
    if found is None:
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            lines.append("")
        lines += [f"{key}:", *indent(children, 2)]
        return _join(lines)
    added = _expand_inline(lines, found, is_list)
    if added or found.inline:
        found = blocks(_join(lines))[key]
    shape = child_indent(_join(lines), found)
    spaces = shape[0] if shape else 2
    position = found.start + 1 if first else found.end
    lines[position:position] = indent(children, spaces)
    return _join(lines)


def replace_block(text: str, key: str, new_lines: list[str]) -> str:
    """The top-level `key`'s lines (key line included) replaced by `new_lines`."""
    found = blocks(text).get(key)
    if found is None:
        raise YamlEditError(f"{key}: not in the file")
    lines = text.splitlines()
    lines[found.start : found.end] = new_lines
    return _join(lines)


def block_children(text: str, key: str) -> list[str]:
    """The lines under the top-level `key`, as written (its inline value excluded)."""
    found = blocks(text).get(key)
    if found is None:
        return []
    return text.splitlines()[found.start + 1 : found.end]


def append_lines(text: str, new_lines: list[str]) -> str:
    """`new_lines` at the end of the file, after one blank line."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        lines.append("")
    return _join(lines + new_lines)


def dedent(lines: list[str]) -> list[str]:
    """Lines with their common indentation removed (blank lines ignored)."""
    widths = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(widths, default=0)
    return [line[cut:] if line.strip() else "" for line in lines]


def child_entries(text: str, key: str) -> dict[str, list[str]]:
    """Each named child of the top-level mapping `key` and its lines, dedented to indentation 0.

    Comment lines directly above a child belong to it. Used to copy single entries (a slot, a
    response) out of the plugin's domain template.
    """
    children = dedent(block_children(text, key))
    entries: dict[str, list[str]] = {}
    pending: list[str] = []
    current: list[str] | None = None
    for line in children:
        if line and line[0] not in " #":
            name = line.split(":", 1)[0].strip("\"'")
            current = [*pending, line]
            entries[name] = current
            pending = []
        elif line.startswith("#"):
            pending.append(line)
        elif current is not None:
            current.append(line)
    for lines in entries.values():
        while lines and not lines[-1].strip():
            lines.pop()
    return entries


__all__ = [
    "Block",
    "YamlEditError",
    "add_children",
    "append_lines",
    "block_children",
    "blocks",
    "child_entries",
    "child_indent",
    "dedent",
    "indent",
    "replace_block",
]
