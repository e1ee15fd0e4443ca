"""Smart handoff for Rasa: the plugin package.

The Rasa-facing classes are resolved lazily so that importing the pure core
(`handoff_component.core`) or the service (`handoff_component.service`) never imports Rasa.
Rasa finds them by the dotted names used in `config.yml`, `credentials.yml` and `endpoints.yml`
(for example `handoff_component.HandoffScorer`).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "HandoffScorer": "handoff_component.scorer",
    "HandoffPolicy": "handoff_component.policy",
    "HandoffConnector": "handoff_component.connector",
    "HandoffEventBroker": "handoff_component.event_broker",
    "InstagramInput": "handoff_component.bot.instagram_channel",
    "TelegramInput": "handoff_component.bot.telegram_channel",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'handoff_component' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
