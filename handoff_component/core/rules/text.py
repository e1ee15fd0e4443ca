"""Text folding for keyword lists and rephrase detection.

Kept here rather than shared with the scorer so that a change to how the scorer tokenises (for its
lexicon) never silently changes which messages a designer's keyword rule matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)

# Words that say nothing about what a message asks, left out when comparing two messages for a
# repeated question: without them "where is my order" and "where is my refund" share three words
# of five, and "yes" twice would count as asking again. English; a bot in another language adds
# its own under `settings.rephrase_ignore_words`.
_IGNORED_TEXT = """
    a an the and or but if then so of to in on at by for with from about as into over after
    i me my mine we us our you your yours he she it its they them their this that these those
    is am are was were be been being do does did doing have has had can could will would shall
    should may might must not no nor yes yeah yep ok okay please thanks thank hi hello hey
    what which who whom whose when where why how there here just still again also too very
    any some all more most much many get got need want tell know let help
"""
IGNORED_WORDS = frozenset(_IGNORED_TEXT.split())


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A message folded once: `padded` is the tokens joined by single spaces, with a space at each
    end, so a whole-word (or whole-phrase) test is one substring search."""

    padded: str
    tokens: tuple[str, ...]
    token_set: frozenset[str]


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form: "Démarche LÉGALE!" -> "demarche legale"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", stripped).replace("_", " ").split())


@lru_cache(maxsize=8192)
def fold_message(text: str) -> FoldedText:
    """Cached, because every turn re-reads the whole conversation's messages."""
    folded = fold(text)
    tokens = tuple(folded.split())
    return FoldedText(padded=f" {folded} ", tokens=tokens, token_set=frozenset(tokens))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of distinct words two messages have in common (0 when either is empty)."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)
