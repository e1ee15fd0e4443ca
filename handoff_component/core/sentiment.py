"""Sentiment of one customer turn: VADER, re-implemented so every contribution is visible, plus a
customer-service layer.

VADER (Hutto & Gilbert, ICWSM 2014; MIT, lexicon vendored in `lexicon/`) sums word valences
adjusted by negation, boosters, capitals and "but", adds punctuation emphasis, and squashes the sum
into [-1, 1]. It reads support chats badly: "I've been waiting for 3 weeks" holds no sentiment word,
"please help" reads as positive, a shouted "WHERE IS MY ORDER" has no capitals *difference*. The
customer-service layer adds named phrase rules (long waits, repeated contact, money lost...), domain
lexicon entries, masked profanity, shouting and repeated punctuation, each a `Signal` whose weight
is its share of the valence sum, so the score can be explained term by term:

    score = s / sqrt(s * s + 15),   s = sum(signal.weight for signal in signals)

With `customer_service=False` the model is plain VADER 3.3.2 (see `docs/scoring.md` for the one
deliberate difference, the "but" rule).
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from handoff_component.core.lexicon import (
    CUSTOMER_SERVICE_LEXICON,
    LexiconError,
    PhraseRule,
    read_emoji_lexicon,
    read_phrase_rules,
    read_vader_lexicon,
    read_valence_tsv,
)
from handoff_component.core.signals import Signal
from handoff_component.core.text import PhraseSet, normalize, straighten_quotes

__all__ = ["LexiconError", "SentimentModel", "SentimentResult"]

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

# --- customer-service layer ----------------------------------------------------------------------
# Weights on VADER's valence scale; how each was chosen is recorded in docs/scoring-tuning.md.
PROFANITY_WEIGHT = -1.0
SHOUTING_WEIGHT = 0.8
REPEATED_PUNCTUATION_WEIGHT = -0.6
SHOUTING_MIN_UPPER_SHARE = 0.7

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
_REPEATED_PUNCT_RE = re.compile(r"[?!]*\?[?!]*\?[?!]*\?[?!]*|[?!]*(?:\?!|!\?)[?!]*[?!]")
_BUT_RE = re.compile(r"\bbut\b")


@dataclass(frozen=True)
class SentimentResult:
    """A sentiment score in [-1, 1] and the signals whose weights sum to its raw valence."""

    score: float
    signals: tuple[Signal, ...]


def _strip_punc_if_word(token: str) -> str:
    """VADER keeps a token whole when stripping would leave <= 2 characters: it is an emoticon."""
    stripped = token.strip(string.punctuation)
    return token if len(stripped) <= 2 else stripped


def _negated(word: str) -> bool:
    return word in NEGATE or "n't" in word


def _vader_normalize(score: float) -> float:
    return max(-1.0, min(1.0, score / math.sqrt(score * score + ALPHA)))


@functools.lru_cache(maxsize=4096)
def _unmask(token: str) -> str | None:
    """The profane word behind `f*ck`, `sh!t`, `a$$`, `w.t.f` or `fkn`; None if there is none."""
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
    for run in re.finditer(r"\*+|#+|%+|.", lowered):
        text = run.group()
        if text[0] in "*#%":
            pattern.append(f"[a-z]{{{len(text)},{len(text) + 1}}}")
        else:
            pattern.append({"$": "s", "@": "a", "!": "i", "1": "[il]"}.get(text, re.escape(text)))
    masked = re.compile("".join(pattern))
    return next((word for word in MASK_PREFERENCE if masked.fullmatch(word)), None)


class SentimentModel:
    """Lexicons loaded once; `score()` is pure and safe to call from any thread."""

    def __init__(
        self,
        lexicon: Mapping[str, float],
        emojis: Mapping[str, str],
        *,
        sources: Mapping[str, str] | None = None,
        phrase_rules: Sequence[PhraseRule] = (),
        customer_service: bool = True,
        shouting_min_words: int = 3,
    ) -> None:
        self._lexicon = dict(lexicon)
        self._emojis = dict(emojis)
        self._sources = dict(sources or {})
        self._phrase_rules = tuple(phrase_rules)
        # Emoji that a customer-service or extra entry rates in its own right, not by description.
        self._rated_emojis = frozenset(
            ch for ch in self._emojis if self._sources.get(ch, "lexicon") != "lexicon"
        )
        self._phrases = PhraseSet((str(i), rule.pattern) for i, rule in enumerate(phrase_rules))
        self._customer_service = customer_service
        self._shouting_min_words = shouting_min_words

    @classmethod
    def load(
        cls,
        extra_lexicon_files: Iterable[str | Path] = (),
        *,
        customer_service: bool = True,
        shouting_min_words: int = 3,
    ) -> SentimentModel:
        """VADER's lexicon, then this project's customer-service entries, then the caller's files.

        Later files override earlier entries; a multi-word entry in an extra file becomes a phrase
        rule. Raises `LexiconError` naming the file and line of a bad entry.
        """
        lexicon = read_vader_lexicon()
        sources = dict.fromkeys(lexicon, "lexicon")
        phrase_rules: list[PhraseRule] = []
        layers: list[tuple[Path, str]] = []
        if customer_service:
            layers.append((CUSTOMER_SERVICE_LEXICON, "cs_lexicon"))
            phrase_rules.extend(read_phrase_rules())
        layers.extend((Path(path), "extra_lexicon") for path in extra_lexicon_files)
        for path, source in layers:
            for token, valence in read_valence_tsv(path).items():
                if " " in token:
                    pattern = r"\b" + re.escape(normalize(token)) + r"\b"
                    phrase_rules.append(PhraseRule(source, valence, pattern, path.name))
                else:
                    lexicon[token] = valence
                    sources[token] = source
        return cls(
            lexicon,
            read_emoji_lexicon(),
            sources=sources,
            phrase_rules=phrase_rules,
            customer_service=customer_service,
            shouting_min_words=shouting_min_words,
        )

    # --- scoring ---------------------------------------------------------------------------------

    def score(self, text: str) -> SentimentResult:
        original = text
        text = self._describe_emojis(text).strip()
        if self._customer_service:
            text = straighten_quotes(text)
        raw_tokens = text.split()
        signals: list[Signal] = []
        tokens = self._tokens(raw_tokens, signals)
        lowers = [token.lower() for token in tokens]
        valences, notes = self._token_valences(tokens, lowers)
        self._but_check(lowers, valences, notes)

        for i, valence in enumerate(valences):
            if valence:
                name = self._sources.get(lowers[i], "lexicon")
                signals.append(Signal(name, valence, self._explain(tokens[i], lowers[i], notes[i])))
        total = sum(valences)
        if self._customer_service:
            total += self._customer_service_signals(
                text, normalize(original), raw_tokens, lowers, total, signals
            )

        emphasis = self._punctuation_emphasis(text)
        if emphasis and total:
            weight = emphasis if total > 0 else -emphasis
            signals.append(Signal("punctuation_emphasis", weight, self._emphasis_detail(text)))
            total += weight
        return SentimentResult(_vader_normalize(total) if signals else 0.0, tuple(signals))

    def _describe_emojis(self, text: str) -> str:
        """VADER scores an emoji through the words of its description ("pouting face")."""
        if text.isascii():
            return text
        parts: list[str] = []
        prev_space = True
        for ch in text:
            description = self._emojis.get(ch)
            if ch in self._rated_emojis:
                description = ch
            if description is None:
                parts.append(ch)
                prev_space = ch == " "
            else:
                if not prev_space:
                    parts.append(" ")
                parts.append(description)
                prev_space = False
        return "".join(parts)

    def _tokens(self, raw_tokens: list[str], signals: list[Signal]) -> list[str]:
        if not self._customer_service or not _MAYBE_PROFANE.search(" ".join(raw_tokens)):
            return [_strip_punc_if_word(token) for token in raw_tokens]
        tokens = []
        for raw in raw_tokens:
            core = raw.strip(_SENTENCE_PUNCT).rstrip("!")
            if core.isalpha():
                word = PROFANE_VARIANTS.get(core.lower())
            else:
                word = _unmask(core) if core else None
            if word is None:
                tokens.append(_strip_punc_if_word(raw))
                continue
            signals.append(Signal("masked_profanity", 0.0, f"{core!r} read as {word!r}"))
            tokens.append(word.upper() if core.isupper() else word)
        return tokens

    def _token_valences(
        self, tokens: list[str], lowers: list[str]
    ) -> tuple[list[float], list[list[str] | None]]:
        """VADER's per-word valence with its modifiers, plus a note for each modifier applied."""
        lexicon = self._lexicon
        count = len(tokens)
        upper = [token.isupper() for token in tokens]
        n_upper = sum(upper)
        is_cap_diff = 0 < count - n_upper < count
        valences: list[float] = []
        notes: list[list[str] | None] = []
        for i, lower in enumerate(lowers):
            if lower in BOOSTER_DICT or (
                lower == "kind" and i < count - 1 and lowers[i + 1] == "of"
            ):
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
                scalar = self._booster(tokens[j], lowers[j], valence, is_cap_diff)
                if scalar:
                    scalar *= (1.0, 0.95, 0.9)[start_i]
                    valence += scalar
                    note.append(
                        f"{'boosted' if scalar * valence > 0 else 'damped'} by {lowers[j]!r}"
                    )
                valence = self._negation_check(valence, lowers, start_i, i, note)
                if start_i == 2:
                    valence = self._special_idioms_check(valence, lowers, i, note)
            valence = self._least_check(valence, lowers, i, note)
            valences.append(valence)
            notes.append(note)
        return valences, notes

    @staticmethod
    def _booster(token: str, lower: str, valence: float, is_cap_diff: bool) -> float:
        scalar = BOOSTER_DICT.get(lower, 0.0)
        if not scalar:
            return 0.0
        if valence < 0:
            scalar *= -1
        if token.isupper() and is_cap_diff:
            scalar += C_INCR if valence > 0 else -C_INCR
        return scalar

    @staticmethod
    def _negation_check(
        valence: float, lowers: list[str], start_i: int, i: int, note: list[str]
    ) -> float:
        before = lowers[i - (start_i + 1)]
        if start_i == 0:
            if _negated(before):
                note.append(f"negated by {before!r}")
                return valence * N_SCALAR
        elif start_i == 1:
            if lowers[i - 2] == "never" and lowers[i - 1] in ("so", "this"):
                note.append("'never so/this' intensifies")
                return valence * 1.25
            if lowers[i - 2] == "without" and lowers[i - 1] == "doubt":
                return valence
            if _negated(before):
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
            if _negated(before):
                note.append(f"negated by {before!r}")
                return valence * N_SCALAR
        return valence

    @staticmethod
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

    def _least_check(self, valence: float, lowers: list[str], i: int, note: list[str]) -> float:
        if (
            i > 0
            and lowers[i - 1] == "least"
            and lowers[i - 1] not in self._lexicon
            and (i == 1 or lowers[i - 2] not in ("at", "very"))
        ):
            note.append("negated by 'least'")
            return valence * N_SCALAR
        return valence

    @staticmethod
    def _but_check(lowers: list[str], valences: list[float], notes: list[list[str] | None]) -> None:
        """Words after the first "but" weigh 1.5x, words before it 0.5x.

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

    @staticmethod
    def _explain(token: str, lower: str, note: list[str] | None) -> str:
        if not note:
            return repr(token)
        return f"{token!r} ({'; '.join(note)})"

    @staticmethod
    def _punctuation_emphasis(text: str) -> float:
        exclamations = min(text.count("!"), 4) * 0.292
        questions = text.count("?")
        if questions > 3:
            return exclamations + 0.96
        if questions > 1:
            return exclamations + questions * 0.18
        return exclamations

    @staticmethod
    def _emphasis_detail(text: str) -> str:
        return f"{text.count('!')} '!' and {text.count('?')} '?'"

    def _customer_service_signals(
        self,
        text: str,
        normalized: str,
        raw_tokens: list[str],
        lowers: list[str],
        lexicon_total: float,
        signals: list[Signal],
    ) -> float:
        """Phrase rules, profanity, shouting, repeated punctuation; returns their total weight.

        Phrases are matched on the customer's own words, normalized (emoji are not described).
        """
        but = _BUT_RE.search(normalized)
        added = 0.0
        for key, match in self._phrases.search_all(normalized).items():
            rule = self._phrase_rules[int(key)]
            weight, where = rule.weight, ""
            if but is not None and match.end() <= but.start():
                weight, where = weight * 0.5, " (before 'but' x0.5)"
            elif but is not None and match.start() >= but.end():
                weight, where = weight * 1.5, " (after 'but' x1.5)"
            signals.append(Signal(rule.name, weight, f"{match.group().strip()!r}{where}"))
            added += weight

        total = lexicon_total + added
        if lexicon_total <= 0 and not PROFANE_WORDS.isdisjoint(lowers):
            profane = next(word for word in lowers if word in PROFANE_WORDS)
            masked = next((s.detail for s in signals if s.name == "masked_profanity"), None)
            signals.append(Signal("profanity", PROFANITY_WEIGHT, masked or repr(profane)))
            added += PROFANITY_WEIGHT
            total += PROFANITY_WEIGHT

        shouted = self._shouted_words(raw_tokens)
        if shouted:
            weight = SHOUTING_WEIGHT if total > 0 else -SHOUTING_WEIGHT
            signals.append(Signal("shouting", weight, " ".join(shouted[:6])))
            added += weight
            total += weight

        if total == 0:
            repeated = _REPEATED_PUNCT_RE.search(text)
            if repeated is not None:
                signals.append(
                    Signal("repeated_punctuation", REPEATED_PUNCTUATION_WEIGHT, repeated.group())
                )
                added += REPEATED_PUNCTUATION_WEIGHT
        return added

    def _shouted_words(self, raw_tokens: list[str]) -> list[str]:
        """Words written in capitals when most of the message is: VADER only sees a *difference*."""
        if sum(1 for token in raw_tokens if token.isupper()) < self._shouting_min_words:
            return []
        words = [w for w in (t.strip(string.punctuation) for t in raw_tokens) if len(w) > 1]
        words = [w for w in words if any(ch.isalpha() for ch in w)]
        shouted = [w for w in words if w.isupper()]
        if len(shouted) < self._shouting_min_words:
            return []
        if len(shouted) < SHOUTING_MIN_UPPER_SHARE * len(words):
            return []
        return shouted
