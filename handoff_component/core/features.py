"""What the learned scorers see of a message: named features, each readable by a designer.

One function turns a message into its features, for training (`scripts/train_scorers.py`) and
for scoring alike, so the two can never drift apart. Features are strings, so every learned
weight can be printed next to what it means:

- `w|refund`      a word (lower case, accents folded; digits read as `<num>`, links `<url>`,
                  handles `<user>`; "!", "!!", "?", "??", "?!" are words too);
- `b|for nothing` two words in a row;
- `c|<fu`         three or four letters of a word, with `<` and `>` marking its ends, so a
                  typo ("humna", "agnet") still shares most of its features with the word;
- `m|shouting`    a cue of the whole message: shouting, many "!", its length in words;
- `m|rule:...`    what the lexicon models found: a customer-service rule (`exasperation`,
                  `long_wait`...), a phrase form of a request for a person (`talk_to_person`,
                  `identity_question`...), the lexicon sentiment's negative or positive part,
                  and `praise_and_problem` when praise and a complaint meet in one message
                  ("thanks for ignoring me": sarcasm, or politeness around a complaint).
                  The learned models weigh this prior knowledge against the data.

Word, pair and letter features have the value 1/sqrt(n) (n = how many the message has; a word
or pair repeated counts once), so a long message does not outweigh a short one; cues have the
value 1 (the lexicon's sentiment cues their strength, 0..1). The work is
linear in the message: one pass of a regex without backtracking, then a fixed amount per word.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from handoff_component.core.text import normalize

__all__ = [
    "Features",
    "cues_of",
    "features_of",
    "has_words",
    "lexicon_cues",
    "tokens_of",
    "word_count_bucket",
    "word_features",
]

_LINK = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"@\w+")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|[!?]+|[^\w\s]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]{2}")
CHAR_NGRAM_SIZES = (3, 4)
# Letters inside one word that get letter features: longer "words" (a pasted hash, a run of one
# key) add nothing but cost.
MAX_WORD_FOR_LETTERS = 24


@dataclass(frozen=True)
class Features:
    """The features of one message: names, their values, and the word each one came from."""

    names: list[str]
    values: list[float]
    words: list[str]  # the word (or words) a feature came from, for explanations


def word_count_bucket(count: int) -> str:
    for limit, name in ((1, "1"), (3, "2-3"), (7, "4-7"), (15, "8-15"), (31, "16-31")):
        if count <= limit:
            return name
    return "32+"


def _punctuation_word(token: str) -> str:
    if "?" in token and "!" in token:
        return "?!"
    return token[:2]


def _tokens(text: str) -> list[str]:
    normalized = _HANDLE.sub(" \x02 ", _LINK.sub(" \x01 ", normalize(text)))
    tokens = []
    for token in _TOKEN.findall(normalized):
        first = token[0]
        if first.isdigit():
            tokens.append("<num>")
        elif first in "!?":
            tokens.append(_punctuation_word(token))
        elif token == "\x01":
            tokens.append("<url>")
        elif token == "\x02":
            tokens.append("<user>")
        else:
            tokens.append(token)
    return tokens


@functools.lru_cache(maxsize=65536)
def word_features(token: str) -> tuple[str, ...]:
    """A word's own features: `w|word` and its letter features (cached: customers reuse words)."""
    if token[0].isalpha() and 1 < len(token) <= MAX_WORD_FOR_LETTERS and token[0] != "<":
        padded = f"<{token}>"
        grams = tuple(
            f"c|{padded[start : start + size]}"
            for size in CHAR_NGRAM_SIZES
            for start in range(len(padded) - size + 1)
        )
        return (f"w|{token}", *grams)
    return (f"w|{token}",)


def cues_of(text: str, tokens: list[str]) -> list[str]:
    cues = [f"m|words:{word_count_bucket(sum(1 for t in tokens if t[0].isalpha()))}"]
    letters = _LETTER.findall(text[:4000])
    if len(letters) >= 8:
        upper = sum(1 for ch in letters if ch.isupper())
        if upper >= 0.7 * len(letters):
            cues.append("m|shouting")
    if text.count("!") >= 3:
        cues.append("m|many_exclamations")
    if text.count("?") >= 3:
        cues.append("m|many_questions")
    return cues


def has_words(text: str) -> bool:
    """Whether the message has a word of two or more letters: what feelings are judged on.

    "!", "???", ".", "k", "42", "😡" carry too little to say a customer is upset (a lone "!"
    scored 0.94 before this rule); their frustration and learned sentiment are 0 with a
    `no_words` signal, and training never sees them.
    """
    return _WORD.search(text) is not None


def tokens_of(text: str) -> list[str]:
    """The message's words as the features see them (see the module's docstring)."""
    return _tokens(text)


@functools.lru_cache(maxsize=1)
def _lexicon_models():  # built once, on first use: reading the lexicons takes ~50 ms
    from handoff_component.core.human_request import HumanRequestModel
    from handoff_component.core.sentiment import SentimentModel

    return SentimentModel.load(), HumanRequestModel(())


# The lexicon models read at most this much of a message for the cues (700 from its start, 300
# from its end) (an emoji is described in
# words first, so 4,000 characters of emoji cost ten times what 4,000 of text do).
LEXICON_CUE_CHARACTERS = 1000
# Lexicon signals that are word ratings, not rules: summed into `m|lexicon_*` instead.
_WORD_SIGNALS = frozenset(["lexicon", "cs_lexicon", "extra_lexicon", "punctuation_emphasis"])


def lexicon_cues(text: str) -> list[tuple[str, float]]:
    """What the lexicon models say, as cues the learned models weigh: their prior knowledge.

    `m|rule:<name>` for each customer-service rule of the lexicon sentiment model and each phrase
    form of the lexicon human-request model that fired (`m|rule:negated_request` and
    `m|rule:identity_question` too); `m|lexicon_negative` / `m|lexicon_positive` for the lexicon
    sentiment score's negative or positive part (0..1); `m|praise_and_problem` (0..1) when the
    message has both praising words and negative words or rules.
    """
    sentiment, human = _lexicon_models()
    if len(text) > LEXICON_CUE_CHARACTERS:  # its head and tail, as the scorer keeps for itself
        text = f"{text[: LEXICON_CUE_CHARACTERS - 300]}\n{text[-300:]}"
    scored = sentiment.score(text)
    cues: dict[str, float] = {}
    for signal in scored.signals:
        if signal.name not in _WORD_SIGNALS and signal.name != "masked_profanity":
            cues[f"m|rule:{signal.name}"] = 1.0
    phrase_signals: list = []
    human.phrase_strength(text, phrase_signals)
    for signal in phrase_signals:
        cues[f"m|rule:{signal.name}"] = 1.0
    if scored.score < 0:
        cues["m|lexicon_negative"] = -scored.score
    elif scored.score > 0:
        cues["m|lexicon_positive"] = scored.score
    # Praise and a problem in one message ("thanks for ignoring me", "great job, 3 outages in 3
    # months"): the net score above cancels them out, but together they read as sarcasm or
    # politeness wrapped around a complaint. The cue's strength is the weaker of the two sides.
    praise = sum(s.weight for s in scored.signals if s.weight > 0 and s.name in _WORD_SIGNALS)
    problem = -sum(s.weight for s in scored.signals if s.weight < 0)
    if praise > 0 and problem > 0:
        both = min(praise, problem)
        cues["m|praise_and_problem"] = both / (both + 1.0)
    return list(cues.items())


def features_of(text: str) -> Features:
    """Every feature of one message, in order.

    Each distinct word gives its own features, each distinct pair of neighbouring words one; all
    of these have the value 1/sqrt(n), n = how many there are; cues have their own value. A
    letter feature shared by two different words counts twice; a word repeated a thousand times
    counts once, so repeating a word cannot push a score further.
    """
    tokens = _tokens(text)
    names: list[str] = []
    words: list[str] = []
    seen: set[str] = set()
    previous = None
    for token in tokens:
        if token not in seen:
            seen.add(token)
            own = word_features(token)
            names.extend(own)
            words.extend([token] * len(own))
        if previous is not None:
            pair = f"{previous} {token}"
            if pair not in seen:
                seen.add(pair)
                names.append(f"b|{pair}")
                words.append(pair)
        previous = token
    value = 1.0 / math.sqrt(len(names)) if names else 0.0
    values = [value] * len(names)
    for cue in cues_of(text, tokens):
        names.append(cue)
        words.append("")
        values.append(1.0)
    for cue, strength in lexicon_cues(text):
        names.append(cue)
        words.append("")
        values.append(strength)
    return Features(names, values, words)
