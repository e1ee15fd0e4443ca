"""The word lists behind the sentiment model, and the readers that turn them into tables.

Files here:
- `vader_lexicon.txt`, `emoji_utf8_lexicon.txt`: VADER 3.3.2, unchanged (MIT: VADER_LICENSE.txt);
- `customer_service.tsv`: this project's additions and domain corrections, `token<TAB>valence`;
- `customer_service_phrases.tsv`: this project's phrase rules, `name<TAB>weight<TAB>pattern`.

Reading happens once, when a scorer is built; scoring itself does no I/O. A malformed line is a
`LexiconError` that names the file and the line, because extra lexicons are written by designers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CUSTOMER_SERVICE_LEXICON",
    "CUSTOMER_SERVICE_PHRASES",
    "EMOJI_LEXICON",
    "VADER_LEXICON",
    "LexiconError",
    "PhraseRule",
    "read_emoji_lexicon",
    "read_phrase_rules",
    "read_vader_lexicon",
    "read_valence_tsv",
]

_HERE = Path(__file__).resolve().parent
VADER_LEXICON = _HERE / "vader_lexicon.txt"
EMOJI_LEXICON = _HERE / "emoji_utf8_lexicon.txt"
CUSTOMER_SERVICE_LEXICON = _HERE / "customer_service.tsv"
CUSTOMER_SERVICE_PHRASES = _HERE / "customer_service_phrases.tsv"

# VADER's ratings run from -4 (extremely negative) to +4 (extremely positive).
MAX_VALENCE = 4.0

# Shorthands usable inside phrase patterns, so rules stay readable: `waiting for {NUM} {PERIOD}`.
PATTERN_MACROS = {
    "NUM": (
        r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen"
        r"|twenty|thirty|forty|several|many|a few|a couple(?: of)?|couple(?: of)?)"
    ),
    "PERIOD": r"(?:mins?|minutes?|hrs?|hours?|days?|weeks?|wks?|months?|years?)",
    "ORDINAL": (
        r"(?:2nd|3rd|\d+th|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|umpteenth"
        r"|hundredth|millionth|nth)"
    ),
    "NEG": (
        r"(?:not|never|no longer|haven't|havent|hasn't|hasnt|didn't|didnt|don't|dont|doesn't"
        r"|doesnt|won't|wont|isn't|isnt|can't|cant|cannot|couldn't|couldnt|wasn't|wasnt"
        r"|aren't|arent|weren't|werent|still not|still haven't|still hasn't|still didn't)"
    ),
    "NOTYET": (
        r"(?:haven't|havent|hasn't|hasnt|have not|has not|didn't|didnt|did not|never|not yet"
        r"|still not)"
    ),
    "MONEY": r"(?:[$£€]\s?\d[\d,.]*|\d[\d,.]*\s?(?:pounds|dollars|euros|usd|gbp|eur|bucks|quid))",
}


class LexiconError(ValueError):
    """A lexicon or phrase file that cannot be read; says which file and which line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class PhraseRule:
    """A named regex over normalized text whose match adds `weight` to the valence sum."""

    name: str
    weight: float
    pattern: str
    source: str


def _data_lines(path: Path, comments: bool = True) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LexiconError(path, None, "file not found") from None
    except UnicodeDecodeError as error:
        raise LexiconError(path, None, f"not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise LexiconError(path, None, f"cannot be read ({error.strerror})") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or (comments and line.lstrip().startswith("#")):
            continue
        lines.append((number, line))
    return lines


def _valence(path: Path, number: int, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise LexiconError(path, number, f"valence {raw.strip()!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > MAX_VALENCE:
        raise LexiconError(
            path, number, f"valence {raw.strip()!r} is outside [-{MAX_VALENCE}, {MAX_VALENCE}]"
        )
    return value


def read_valence_tsv(path: Path | str) -> dict[str, float]:
    """`token<TAB>valence` lines (blank lines and `#` comments allowed); tokens are lower-cased.

    A token with spaces is a phrase; the caller decides how to match it.
    """
    path = Path(path)
    entries: dict[str, float] = {}
    for number, line in _data_lines(path):
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip():
            raise LexiconError(path, number, "expected 'token<TAB>valence'")
        token = " ".join(fields[0].strip().lower().split())
        entries[token] = _valence(path, number, fields[1])
    if not entries:
        raise LexiconError(path, None, "no entries")
    return entries


def read_vader_lexicon(path: Path | str = VADER_LEXICON) -> dict[str, float]:
    """VADER's own format: token, mean valence, then columns VADER itself ignores."""
    path = Path(path)
    entries: dict[str, float] = {}
    for number, line in _data_lines(path, comments=False):
        fields = line.split("\t")
        if len(fields) < 2:
            raise LexiconError(path, number, "expected 'token<TAB>valence<TAB>...'")
        entries[fields[0]] = _valence(path, number, fields[1])
    return entries


def read_emoji_lexicon(path: Path | str = EMOJI_LEXICON) -> dict[str, str]:
    """Emoji to its English description; VADER scores the description's words."""
    path = Path(path)
    entries: dict[str, str] = {}
    for number, line in _data_lines(path, comments=False):
        fields = line.split("\t")
        if len(fields) < 2:
            raise LexiconError(path, number, "expected 'emoji<TAB>description'")
        entries[fields[0]] = fields[1]
    return entries


def _expand_macros(path: Path, number: int, pattern: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PATTERN_MACROS:
            raise LexiconError(path, number, f"unknown macro {{{name}}}")
        return PATTERN_MACROS[name]

    return re.sub(r"\{([A-Z]+)\}", replace, pattern)


def read_phrase_rules(path: Path | str = CUSTOMER_SERVICE_PHRASES) -> list[PhraseRule]:
    """`name<TAB>weight<TAB>pattern` lines; lines sharing a name form one rule (alternatives)."""
    path = Path(path)
    grouped: dict[str, tuple[float, list[str]]] = {}
    for number, line in _data_lines(path):
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0].strip() or not fields[2].strip():
            raise LexiconError(path, number, "expected 'name<TAB>weight<TAB>pattern'")
        name, weight = fields[0].strip(), _valence(path, number, fields[1])
        pattern = _expand_macros(path, number, fields[2].strip())
        try:
            re.compile(pattern)
        except re.error as error:
            raise LexiconError(path, number, f"invalid pattern: {error}") from None
        if name in grouped and grouped[name][0] != weight:
            raise LexiconError(path, number, f"rule {name!r} already has weight {grouped[name][0]}")
        grouped.setdefault(name, (weight, []))[1].append(pattern)
    return [
        PhraseRule(name, weight, "|".join(patterns), path.name)
        for name, (weight, patterns) in grouped.items()
    ]
