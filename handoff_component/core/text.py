"""Text helpers shared by the scorers and the trigger rules.

Customers type on phones: curly apostrophes, accents, stray whitespace. Every matcher in the core
sees text through the same two functions so that a rule written as `don't` also matches `don\u2019t`
and `café` matches `cafe`. Pure functions, no I/O.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

try:  # the regex parser moved in Python 3.11; this project runs 3.10
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre
    import sre_parse as _sre_parse

__all__ = [
    "PhraseSet",
    "fold_accents",
    "normalize",
    "straighten_quotes",
    "tokenize",
    "trie_pattern",
]

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
    }
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def straighten_quotes(text: str) -> str:
    """Typographic quotes to ASCII, so contractions match however a keyboard wrote them."""
    return text.translate(_QUOTES)


def fold_accents(text: str) -> str:
    """Drop combining marks (é -> e); characters without a decomposition are kept as they are."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """The comparable form of a message: straight quotes, no accents, lower case, single spaces.

    Cached: each scorer normalizes the same message, and a message is scored several times.
    """
    return " ".join(fold_accents(straighten_quotes(text)).split()).lower()


def tokenize(text: str) -> list[str]:
    """Word tokens of the normalized text; contractions stay whole (`don't`), punctuation goes."""
    return _WORD.findall(normalize(text))


class PhraseSet:
    """Named regexes over normalized text, matched together with a cheap test first.

    Python's `re` tries every alternative at every position, which made the phrase rules most of
    a turn's cost. Each top-level alternative here carries the literal strings one of which any
    match must contain (read off the parsed regex). One scan of the text with a trie of all those
    literals picks the few alternatives worth running. Results equal `re.search` per name, up to
    which of two alternatives matching at the same position is reported.
    """

    __slots__ = ("_alternatives", "_always", "_names", "_needles", "_scan")

    def __init__(self, patterns: Iterable[tuple[str, str]]) -> None:
        self._names: list[str] = []
        self._alternatives: list[tuple[str, re.Pattern[str]]] = []
        self._always: list[int] = []
        owners: dict[str, set[int]] = {}
        for name, pattern in patterns:
            if name not in self._names:
                self._names.append(name)
            for alternative in _top_level_alternatives(pattern):
                index = len(self._alternatives)
                compiled = re.compile(alternative)
                self._alternatives.append((name, compiled))
                required = _required_literals(compiled)
                if required is None:
                    self._always.append(index)
                else:
                    for needle in required:
                        owners.setdefault(needle, set()).add(index)
        # The scan reports the longest literal starting at each position; the shorter ones it
        # contains are present too, so each literal stands for the alternatives of all of them.
        self._needles = {
            needle: frozenset().union(*(owners[n] for n in owners if n in needle))
            for needle in owners
        }
        self._scan = re.compile(f"(?=({trie_pattern(owners)}))") if owners else None

    def search_all(self, text: str, endpos: int | None = None) -> dict[str, re.Match[str]]:
        """The leftmost match of each name that matches, in the order the names were given."""
        end = len(text) if endpos is None else endpos
        candidates = set(self._always)
        if self._scan is not None:
            for needle in self._scan.findall(text):
                candidates.update(self._needles[needle])
        found: dict[str, re.Match[str]] = {}
        for index in sorted(candidates):
            name, compiled = self._alternatives[index]
            match = compiled.search(text, 0, end)
            if match is not None and (name not in found or match.start() < found[name].start()):
                found[name] = match
        if len(found) < 2:
            return found
        return {name: found[name] for name in self._names if name in found}


def trie_pattern(words: Iterable[str]) -> str:
    """A regex matching the longest of `words` at a position, shared prefixes written once.

    Far faster than `a|b|c...` in Python's `re` once there are more than a handful of words.
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


def _top_level_alternatives(pattern: str) -> list[str]:
    """`a|(b|c)|d` -> `a`, `(b|c)`, `d`; escapes and character classes are respected."""
    parts: list[str] = []
    current: list[str] = []
    depth, in_class, i = 0, False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            current.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]" or current[-1] == "["
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _required_literals(compiled: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which every match contains; None when no such set can be read off."""
    if compiled.flags & re.IGNORECASE:
        return None
    found = _factors(_sre_parse.parse(compiled.pattern, compiled.flags))
    return tuple(sorted(found, key=len, reverse=True)) if found else None


def _factors(items: Any) -> set[str] | None:
    """Necessary literals of a parsed sequence: the most selective set over its parts."""
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is _sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            candidates.append({"".join(run)})
            run = []
        found: set[str] | None = None
        if op is _sre.SUBPATTERN:
            found = _factors(av[-1])
        elif op is _sre.BRANCH:
            branches = [_factors(branch) for branch in av[1]]
            if all(branches):
                found = set().union(*branches)  # type: ignore[arg-type]
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
            found = _factors(av[2])
        if found:
            candidates.append(found)
    if run:
        candidates.append({"".join(run)})
    if not candidates:
        return None
    # Longer literals are rarer in text (up to ~6 characters); then fewer is cheaper to test.
    return max(candidates, key=lambda c: (min(6, *map(len, c)), -len(c)))
