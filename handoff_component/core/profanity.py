"""Swear words, including the masked and filter-dodging spellings customers type.

`f*ck`, `sh!t`, `a$$`, `w.t.f` and `fkn` are read as the word behind them, so VADER's lexicon can
rate them and the customer-service layer can count them as profanity. The per-token work is
bounded: a token longer than `MAX_MASKED_LENGTH` is never taken for a masked word (the longest
word here has 13 letters), so a 100,000-character run of `*` costs one length test.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from handoff_component.core.signals import Signal

__all__ = ["MASK_PREFERENCE", "PROFANE_VARIANTS", "PROFANE_WORDS", "read_masked", "unmask"]

MAX_MASKED_LENGTH = 24

PROFANE_WORDS = frozenset(
    [
        "fuck",
        "fucks",
        "fucked",
        "fucker",
        "fuckers",
        "fucking",
        "fuckin",
        "motherfucker",
        "motherfucking",
        "shit",
        "shits",
        "shitty",
        "bullshit",
        "crap",
        "crappy",
        "damn",
        "damned",
        "goddamn",
        "wtf",
        "ffs",
        "stfu",
        "fml",
        "bitch",
        "bastard",
        "asshole",
        "arse",
        "arsehole",
        "piss",
        "pissed",
        "bollocks",
        "wanker",
        "twat",
        "cunt",
        "dick",
        "dickhead",
    ]
)
# Spellings that dodge a filter without a mask character.
PROFANE_VARIANTS = {
    "fck": "fuck",
    "fuk": "fuck",
    "fkn": "fucking",
    "fckn": "fucking",
    "fking": "fucking",
    "fcking": "fucking",
    "fukin": "fucking",
    "fuking": "fucking",
    "fkin": "fucking",
    "biatch": "bitch",
    "wtaf": "wtf",
}
# Which word a mask stands for when several fit ("s***": shit or stfu): commonest first.
MASK_PREFERENCE = (
    "fuck",
    "shit",
    "fucking",
    "damn",
    "crap",
    "hell",
    "ass",
    "bitch",
    "bullshit",
    "asshole",
    "fucked",
    "fucker",
    "fuckin",
    "shitty",
    "piss",
    "pissed",
    "bastard",
    "dick",
    "crappy",
    "damned",
    "goddamn",
    "arse",
    "arsehole",
    "bollocks",
    "wanker",
    "twat",
    "cunt",
    "dickhead",
    "motherfucker",
    "motherfucking",
    "fucks",
    "fuckers",
    "shits",
    "wtf",
    "ffs",
    "stfu",
    "fml",
)
_MASK_CHARS = "*#@$%!1"
# Cheap test before the per-word look: a mask character next to a letter, a dotted acronym, or
# one of the filter-dodging spellings.
_MAYBE_PROFANE = re.compile(
    r"[A-Za-z][*#@$%1]|[A-Za-z]![A-Za-z]|[*#@$%][A-Za-z]|[A-Za-z]\.[A-Za-z]\.|(?i:\b(?:"
    + "|".join(PROFANE_VARIANTS)
    + r")\b)"
)
_MASK_RE = re.compile(r"[a-z*#@$%!1]+")
_DOTTED_RE = re.compile(r"(?:[a-z]\.){2,}[a-z]?")

_SENTENCE_PUNCT = ".,;:?\"'()[]{}<>"
_MASK_RUN = re.compile(r"\*+|#+|%+|.")


def maybe_profane(text: str) -> bool:
    """Cheap test before looking at each word (one linear scan of the message)."""
    return _MAYBE_PROFANE.search(text) is not None


@functools.lru_cache(maxsize=4096)
def unmask(token: str) -> str | None:
    """The profane word behind `f*ck`, `sh!t`, `a$$`, `w.t.f` or `fkn`; None if there is none."""
    if len(token) > MAX_MASKED_LENGTH:
        return None
    lowered = token.lower()
    if lowered in PROFANE_VARIANTS:
        return PROFANE_VARIANTS[lowered]
    if _DOTTED_RE.fullmatch(lowered):
        undotted = lowered.replace(".", "")
        return undotted if undotted in PROFANE_WORDS else None
    if not any(ch in _MASK_CHARS for ch in lowered) or not _MASK_RE.fullmatch(lowered):
        return None
    if not any(ch.isalpha() for ch in lowered):
        return None
    pattern = []
    for run in _MASK_RUN.finditer(lowered):
        text = run.group()
        if text[0] in "*#%":
            pattern.append(f"[a-z]{{{len(text)},{len(text) + 1}}}")
        else:
            pattern.append({"$": "s", "@": "a", "!": "i", "1": "[il]"}.get(text, re.escape(text)))
    masked = re.compile("".join(pattern))
    return next((word for word in MASK_PREFERENCE if masked.fullmatch(word)), None)


def read_masked(
    raw_tokens: list[str], signals: list[Signal], strip: Callable[[str], str]
) -> list[str]:
    """Tokens with each masked swear word replaced by the word it stands for.

    `strip` is VADER's token cleaner (applied to every other token); each replacement adds a
    `masked_profanity` signal of weight 0 that explains it.
    """
    tokens = []
    for raw in raw_tokens:
        core = raw.strip(_SENTENCE_PUNCT).rstrip("!")
        if core.isalpha():
            word = PROFANE_VARIANTS.get(core.lower())
        else:
            word = unmask(core) if core else None
        if word is None:
            tokens.append(strip(raw))
            continue
        signals.append(Signal("masked_profanity", 0.0, f"{core!r} read as {word!r}"))
        tokens.append(word.upper() if core.isupper() else word)
    return tokens
