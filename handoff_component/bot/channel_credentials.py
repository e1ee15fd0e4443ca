"""The check every channel of the plugin makes of its `credentials.yml` entry, written once.

Rasa hands `from_credentials()` whatever the entry holds: a misspelt key would otherwise be
ignored (and the option it meant left at its default), and an empty `${VARIABLE}` would surface
only when the first message fails. Each channel names its required and its known keys; this says
what is wrong in the same words for all of them, starting with the entry's name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def checked_credentials(
    channel: str,
    credentials: Mapping[str, Any] | None,
    required: Collection[str] = (),
    known: Collection[str] = (),
) -> dict[str, Any]:
    """A copy of `credentials` (None: empty) with no unknown key and every required one set.

    `ValueError("credentials.yml, <channel>: ...")` otherwise: the unknown options with the known
    ones, or the required options that are missing or empty, in `required`'s order.
    """
    found = dict(credentials or {})
    allowed = {*required, *known}
    unknown = set(found) - allowed
    if unknown:
        raise ValueError(
            f"credentials.yml, {channel}: unknown option(s) {sorted(unknown)}; "
            f"known: {sorted(allowed)}"
        )
    missing = [key for key in required if not found.get(key)]
    if missing:
        raise ValueError(f"credentials.yml, {channel}: {', '.join(missing)} must be set")
    return found
