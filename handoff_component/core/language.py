"""Which language a message is in, well enough to know when the scorers cannot judge it.

The learned models read English (and requests for a person in Spanish, Portuguese, German and
French); scoring anything else would give a confident-looking, meaningless number. This guess is
deliberately conservative, because calling an English message "unsupported" removes its scores:

- a message whose letters are mostly of one non-Latin script is that script's language
  (Arabic, Hebrew, Cyrillic, Greek, Thai, Devanagari, Hangul, kana, Han...);
- a Latin-script message is English unless another language's common words outnumber the
  English ones (at least two of them, or one greeting-like word in a message of up to four words),
  or it has at least four words and fewer than a quarter of them are common English words.

`LanguageGuess.code` is an ISO 639-1 code, or "und" for a Latin-script language not listed here.
Linear in the message: one pass over its characters and one set look-up per word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from handoff_component.core.text import normalize

__all__ = ["LANGUAGE_NAMES", "LanguageGuess", "LanguageGuesser"]

LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "de": "German", "fr": "French",
    "it": "Italian", "nl": "Dutch", "ar": "Arabic", "he": "Hebrew", "ru": "Russian (Cyrillic)",
    "el": "Greek", "th": "Thai", "hi": "Hindi (Devanagari)", "ko": "Korean", "ja": "Japanese",
    "zh": "Chinese", "und": "a language not recognised",
}  # fmt: skip

# Common words of each language, written for this project; accents folded, lower case.
# Words shared with English ("a", "no", "me", "is"...) are left out of the other lists.
FUNCTION_WORDS = {
    "es": "el la los las del que y en un una es por con para mi pero como donde esta estoy hola "
          "gracias quiero necesito pedido tengo hablar puedo porque muy ya se lo su cuando hay al "
          "usted eso favor ayuda cuenta dinero tarjeta todavia nada",
    "pt": "os que em um uma nao por com para meu minha mas como onde esta estou ola obrigado "
          "obrigada quero preciso pedido tenho falar posso porque muito ja voce da na isso "
          "ajuda conta dinheiro cartao ainda nada favor",
    "de": "der das und ist nicht ich sie es ein eine mit auf fur mein meine aber wie wo bitte "
          "danke hallo mochte kann bestellung haben habe noch sprechen warum sehr schon den dem zu "
          "von auch wir ihr sind mir mich hilfe konto geld karte",
    "fr": "le la les des et est une ne pas je vous mon ma mes pour avec mais comment ou bonjour "
          "merci veux voudrais commande j'ai parler pourquoi tres deja c'est il elle du au sur ce "
          "qui que aide compte argent carte toujours rien",
    "it": "il gli di che un una non per con mio mia ma dove sono ciao grazie voglio "
          "ordine parlare perche molto gia questo della del aiuto conto soldi carta ancora niente",
    "nl": "het een en niet ik je mijn met voor maar hoe waar bedankt hallo wil bestelling spreken "
          "waarom heel dat op zijn hulp rekening geld kaart nog niets",
}  # fmt: skip
# A single one of these in a short message is enough ("hola", "merci beaucoup").
GREETING_WORDS = {
    "es": {"hola", "gracias", "quiero", "necesito", "ayuda"},
    "pt": {"ola", "obrigado", "obrigada", "quero", "preciso", "ajuda"},
    "de": {"hallo", "danke", "bitte", "mochte", "hilfe"},
    "fr": {"bonjour", "merci", "veux", "voudrais", "aide"},
    "it": {"ciao", "grazie", "voglio", "aiuto"},
    "nl": {"bedankt", "hallo", "wil", "hulp"},
}
_SCRIPTS = (
    (0x0600, 0x06FF, "ar"), (0x0750, 0x077F, "ar"), (0x08A0, 0x08FF, "ar"), (0xFB50, 0xFDFF, "ar"),
    (0xFE70, 0xFEFF, "ar"), (0x0590, 0x05FF, "he"), (0x0400, 0x052F, "ru"), (0x0370, 0x03FF, "el"),
    (0x0E00, 0x0E7F, "th"), (0x0900, 0x097F, "hi"), (0x1100, 0x11FF, "ko"), (0xAC00, 0xD7AF, "ko"),
    (0x3040, 0x30FF, "ja"), (0x4E00, 0x9FFF, "zh"), (0x3400, 0x4DBF, "zh"),
)  # fmt: skip
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
MIN_WORDS_FOR_COVERAGE = 4
MIN_ENGLISH_COVERAGE = 0.25


@dataclass(frozen=True)
class LanguageGuess:
    code: str
    evidence: str

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES.get(self.code, self.code)


ENGLISH = LanguageGuess("en", "")


def _script(ch: str) -> str | None:
    point = ord(ch)
    for low, high, code in _SCRIPTS:
        if low <= point <= high:
            return code
    return None


class LanguageGuesser:
    """`english_words`: common English words (the weights file ships a list from training);
    without them only the script and the other languages' common words are used."""

    def __init__(self, english_words: Iterable[str]) -> None:
        self._english = frozenset(english_words)
        self._others = {code: frozenset(words.split()) for code, words in FUNCTION_WORDS.items()}

    def guess(self, text: str) -> LanguageGuess:
        if not text.isascii():
            found = self._by_script(text)
            if found is not None:
                return found
        words = _WORD.findall(normalize(text))
        if not words:
            return ENGLISH
        english = sum(1 for w in words if w in self._english)
        best, best_hits = "", 0
        for code, vocabulary in self._others.items():
            hits = sum(1 for w in words if w in vocabulary)
            if hits > best_hits:
                best, best_hits = code, hits
        own = [w for w in words if w in self._others.get(best, ())][:3]
        if best_hits >= 2 and best_hits > english:
            return LanguageGuess(best, f"common {LANGUAGE_NAMES[best]} words: {', '.join(own)}")
        if (
            best_hits == 1
            and english == 0
            and len(words) <= 4
            and not GREETING_WORDS[best].isdisjoint(words)
        ):
            return LanguageGuess(best, f"{LANGUAGE_NAMES[best]} word: {own[0]}")
        if (
            self._english
            and len(words) >= MIN_WORDS_FOR_COVERAGE
            and english < MIN_ENGLISH_COVERAGE * len(words)
        ):
            code = best if best_hits else "und"
            return LanguageGuess(code, f"{english} of {len(words)} words are common English words")
        return ENGLISH

    @staticmethod
    def _by_script(text: str) -> LanguageGuess | None:
        counts: dict[str, int] = {}
        latin = 0
        for ch in text:
            if not ch.isalpha():
                continue
            code = _script(ch)
            if code is None:
                latin += 1
            else:
                counts[code] = counts.get(code, 0) + 1
        if not counts:
            return None
        if "ja" in counts:  # kana: Japanese, whatever share of Han characters comes with it
            counts["ja"] += counts.pop("zh", 0)
        code, letters = max(counts.items(), key=lambda item: item[1])
        if letters < latin:
            return None
        return LanguageGuess(code, f"{letters} letters in the script of {LANGUAGE_NAMES[code]}")
