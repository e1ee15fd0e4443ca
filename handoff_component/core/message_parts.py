"""An attendant's text cut into the parts a messaging platform accepts.

Every platform has a ceiling on one message (Messenger 2,000 characters, Instagram 1,000 bytes,
WhatsApp and SMS through Twilio 1,600 characters, Telegram 4,096 characters), and a longer
message is refused whole. Rasa's output channels split text on blank lines only, so one long
paragraph would still be refused. Here the text is cut at the last paragraph break, else line
break, else space, that keeps a part within the ceiling, and cut hard only inside a word longer
than the ceiling. Pure and linear in the length of the text.
"""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]
SEPARATORS = ("\n\n", "\n", " ")


def characters(text: str) -> int:
    return len(text)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def split_for_limit(text: str, limit: int, measure: Measure = characters) -> list[str]:
    """The non-empty parts of `text`, in order, each at most `limit` by `measure`.

    Paragraphs stay whole where they fit; whitespace at a cut is dropped, nothing else is.
    A part never holds more than `limit` characters (every measure counts a character as at
    least one), so the work is O(len(text) * log(limit)).
    """
    if limit < 4:
        raise ValueError("a message limit below 4 cannot hold a character of every script")
    text = text.strip()
    parts: list[str] = []
    start = 0
    while start < len(text):
        window = text[start : start + limit]
        if start + limit >= len(text) and measure(window) <= limit:
            parts.append(window.strip())
            break
        head = _longest_prefix(window, limit, measure)
        cut = _last_separator(head)
        end, skip = (len(head), 0) if cut is None else cut
        part = head[:end].strip()
        if part:
            parts.append(part)
        start += end + skip
        while start < len(text) and text[start].isspace():
            start += 1
    return [part for part in parts if part]


def _longest_prefix(window: str, limit: int, measure: Measure) -> str:
    """The longest prefix within `limit`; `measure` grows with length, so bisect on it."""
    low, high = 1, len(window)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(window[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return window[:low]


def _last_separator(head: str) -> tuple[int, int] | None:
    """Where to cut `head` (index, length of the separator dropped there), if anywhere."""
    for separator in SEPARATORS:
        index = head.rfind(separator)
        if index > 0:
            return index, len(separator)
    return None
