"""VADER 3.3.2 (Hutto & Gilbert, ICWSM 2014; MIT), re-implemented so every contribution is visible.

VADER sums word valences adjusted by negation, boosters, capitals and "but", adds punctuation
emphasis, and squashes the sum into [-1, 1]. This module holds its rules as plain functions over
token lists; `sentiment.SentimentModel` adds the customer-service layer on top and turns each
valence into a `Signal`. Every function here does work linear in the number of tokens: each rule
looks at most three tokens back and two ahead.

One deliberate difference from the original, documented in docs/scoring.md: the "but" rule goes
by position, not by value.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping

__all__ = [
    "ALPHA",
    "BOOSTER_DICT",
    "NEGATE",
    "emphasis_detail",
    "explain",
    "normalize_score",
    "punctuation_emphasis",
    "rescale_around_but",
    "strip_punc_if_word",
    "token_valences",
]

# --- VADER 3.3.2 constants (empirically derived by its authors) ---------------------------------
B_INCR = 0.293
B_DECR = -0.293
C_INCR = 0.733
N_SCALAR = -0.74
ALPHA = 15.0

NEGATE = frozenset(
    [
        "aint",
        "arent",
        "cannot",
        "cant",
        "couldnt",
        "darent",
        "didnt",
        "doesnt",
        "ain't",
        "aren't",
        "can't",
        "couldn't",
        "daren't",
        "didn't",
        "doesn't",
        "dont",
        "hadnt",
        "hasnt",
        "havent",
        "isnt",
        "mightnt",
        "mustnt",
        "neither",
        "don't",
        "hadn't",
        "hasn't",
        "haven't",
        "isn't",
        "mightn't",
        "mustn't",
        "neednt",
        "needn't",
        "never",
        "none",
        "nope",
        "nor",
        "not",
        "nothing",
        "nowhere",
        "oughtnt",
        "shant",
        "shouldnt",
        "uhuh",
        "wasnt",
        "werent",
        "oughtn't",
        "shan't",
        "shouldn't",
        "uh-uh",
        "wasn't",
        "weren't",
        "without",
        "wont",
        "wouldnt",
        "won't",
        "wouldn't",
        "rarely",
        "seldom",
        "despite",
    ]
)

_BOOSTERS_UP = """absolutely amazingly awfully completely considerable considerably decidedly deeply
    effing enormous enormously entirely especially exceptional exceptionally extreme extremely
    fabulously flipping flippin frackin fracking fricking frickin frigging friggin fully fuckin
    fucking fuggin fugging greatly hella highly hugely incredible incredibly intensely major majorly
    more most particularly purely quite really remarkably so substantially thoroughly total totally
    tremendous tremendously uber unbelievably unusually utter utterly very"""
_BOOSTERS_DOWN = """almost barely hardly kinda kindof kind-of less little marginal marginally
    occasional occasionally partly scarce scarcely slight slightly somewhat sorta sortof sort-of"""
BOOSTER_DICT: dict[str, float] = {
    **dict.fromkeys(_BOOSTERS_UP.split(), B_INCR),
    **dict.fromkeys(_BOOSTERS_DOWN.split(), B_DECR),
    "just enough": B_DECR,
    "kind of": B_DECR,
    "sort of": B_DECR,
}

SPECIAL_CASES = {
    "the shit": 3,
    "the bomb": 3,
    "bad ass": 1.5,
    "badass": 1.5,
    "bus stop": 0.0,
    "yeah right": -2,
    "kiss of death": -1.5,
    "to die for": 3,
    "beating heart": 3.5,
}


def strip_punc_if_word(token: str) -> str:
    """VADER keeps a token whole when stripping would leave <= 2 characters: it is an emoticon."""
    stripped = token.strip(string.punctuation)
    return token if len(stripped) <= 2 else stripped


def negated(word: str) -> bool:
    return word in NEGATE or "n't" in word


def normalize_score(score: float) -> float:
    """VADER's squashing of a valence sum into [-1, 1]."""
    return max(-1.0, min(1.0, score / math.sqrt(score * score + ALPHA)))


def token_valences(
    tokens: list[str], lowers: list[str], lexicon: Mapping[str, float]
) -> tuple[list[float], list[list[str] | None]]:
    """VADER's per-word valence with its modifiers, plus a note for each modifier applied."""
    count = len(tokens)
    upper = [token.isupper() for token in tokens]
    n_upper = sum(upper)
    is_cap_diff = 0 < count - n_upper < count
    valences: list[float] = []
    notes: list[list[str] | None] = []
    for i, lower in enumerate(lowers):
        if lower in BOOSTER_DICT or (lower == "kind" and i < count - 1 and lowers[i + 1] == "of"):
            valences.append(0.0)
            notes.append(None)
            continue
        base = lexicon.get(lower)
        if base is None:
            valences.append(0.0)
            notes.append(None)
            continue
        note: list[str] = []
        valence = base
        if lower == "no" and i != count - 1 and lowers[i + 1] in lexicon:
            valence = 0.0
            note.append("'no' negates the next word instead")
        if (
            (i > 0 and lowers[i - 1] == "no")
            or (i > 1 and lowers[i - 2] == "no")
            or (i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in ("or", "nor"))
        ):
            valence = base * N_SCALAR
            note.append("negated by 'no'")
        if upper[i] and is_cap_diff:
            valence += C_INCR if valence > 0 else -C_INCR
            note.append("in capitals")
        for start_i in range(3):
            j = i - (start_i + 1)
            if j < 0 or lowers[j] in lexicon:
                continue
            scalar = _booster(tokens[j], lowers[j], valence, is_cap_diff)
            if scalar:
                scalar *= (1.0, 0.95, 0.9)[start_i]
                valence += scalar
                note.append(f"{'boosted' if scalar * valence > 0 else 'damped'} by {lowers[j]!r}")
            valence = _negation_check(valence, lowers, start_i, i, note)
            if start_i == 2:
                valence = _special_idioms_check(valence, lowers, i, note)
        valence = _least_check(valence, lowers, i, note, lexicon)
        valences.append(valence)
        notes.append(note)
    return valences, notes


def _booster(token: str, lower: str, valence: float, is_cap_diff: bool) -> float:
    scalar = BOOSTER_DICT.get(lower, 0.0)
    if not scalar:
        return 0.0
    if valence < 0:
        scalar *= -1
    if token.isupper() and is_cap_diff:
        scalar += C_INCR if valence > 0 else -C_INCR
    return scalar


def _negation_check(
    valence: float, lowers: list[str], start_i: int, i: int, note: list[str]
) -> float:
    before = lowers[i - (start_i + 1)]
    if start_i == 0:
        if negated(before):
            note.append(f"negated by {before!r}")
            return valence * N_SCALAR
    elif start_i == 1:
        if lowers[i - 2] == "never" and lowers[i - 1] in ("so", "this"):
            note.append("'never so/this' intensifies")
            return valence * 1.25
        if lowers[i - 2] == "without" and lowers[i - 1] == "doubt":
            return valence
        if negated(before):
            note.append(f"negated by {before!r}")
            return valence * N_SCALAR
    else:
        # VADER's own precedence, kept as is: the second test needs no "never".
        if (lowers[i - 3] == "never" and lowers[i - 2] in ("so", "this")) or lowers[i - 1] in (
            "so",
            "this",
        ):
            note.append("'so/this' intensifies")
            return valence * 1.25
        if lowers[i - 3] == "without" and "doubt" in (lowers[i - 2], lowers[i - 1]):
            return valence
        if negated(before):
            note.append(f"negated by {before!r}")
            return valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lowers: list[str], i: int, note: list[str]) -> float:
    w3, w2, w1, w0 = lowers[i - 3], lowers[i - 2], lowers[i - 1], lowers[i]
    for sequence in (
        f"{w1} {w0}",
        f"{w2} {w1} {w0}",
        f"{w2} {w1}",
        f"{w3} {w2} {w1}",
        f"{w3} {w2}",
    ):
        if sequence in SPECIAL_CASES:
            valence = SPECIAL_CASES[sequence]
            note.append(f"idiom {sequence!r}")
            break
    if len(lowers) - 1 > i:
        sequence = f"{w0} {lowers[i + 1]}"
        if sequence in SPECIAL_CASES:
            valence = SPECIAL_CASES[sequence]
            note.append(f"idiom {sequence!r}")
    if len(lowers) - 1 > i + 1:
        sequence = f"{w0} {lowers[i + 1]} {lowers[i + 2]}"
        if sequence in SPECIAL_CASES:
            valence = SPECIAL_CASES[sequence]
            note.append(f"idiom {sequence!r}")
    for n_gram in (f"{w3} {w2} {w1}", f"{w3} {w2}", f"{w2} {w1}"):
        if n_gram in BOOSTER_DICT:
            valence += BOOSTER_DICT[n_gram]
            note.append(f"modified by {n_gram!r}")
    return valence


def _least_check(
    valence: float, lowers: list[str], i: int, note: list[str], lexicon: Mapping[str, float]
) -> float:
    if (
        i > 0
        and lowers[i - 1] == "least"
        and lowers[i - 1] not in lexicon
        and (i == 1 or lowers[i - 2] not in ("at", "very"))
    ):
        note.append("negated by 'least'")
        return valence * N_SCALAR
    return valence


def rescale_around_but(
    lowers: list[str], valences: list[float], notes: list[list[str] | None]
) -> None:
    """Words after the first "but" weigh 1.5x, words before it 0.5x (in place).

    VADER 3.3.2 finds each word by value (`list.index`), which rescales the wrong word when two
    valences are equal; this port goes by position, which is what the rule means.
    """
    if "but" not in lowers:
        return
    but_at = lowers.index("but")
    for i, valence in enumerate(valences):
        if not valence or i == but_at:
            continue
        factor = 0.5 if i < but_at else 1.5
        valences[i] = valence * factor
        note = notes[i]
        if note is not None:
            note.append(f"{'before' if i < but_at else 'after'} 'but' x{factor}")


def explain(token: str, note: list[str] | None) -> str:
    """A lexicon signal's detail: the word, and what modified its valence."""
    if not note:
        return repr(token)
    return f"{token!r} ({'; '.join(note)})"


def punctuation_emphasis(text: str) -> float:
    """VADER's amplifier: up to 4 "!", and 2-3 "?" (or a flat 0.96 above 3)."""
    exclamations = min(text.count("!"), 4) * 0.292
    questions = text.count("?")
    if questions > 3:
        return exclamations + 0.96
    if questions > 1:
        return exclamations + questions * 0.18
    return exclamations


def emphasis_detail(text: str) -> str:
    return f"{text.count('!')} '!' and {text.count('?')} '?'"
