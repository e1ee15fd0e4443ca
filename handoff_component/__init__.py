"""Smart handoff for Rasa: the plugin package.

The layers are subpackages (docs/architecture.md): `core/` (pure: scoring, rules, summary, ticket
lifecycle), `contract/` (every payload between processes), `bot/` (everything that imports Rasa
or rasa_sdk), `service/` (the handoff service, never Rasa) and `cli/`.

The names a bot's configuration uses are exported here lazily, so that importing the pure core or
the service never imports Rasa. Rasa finds them by the dotted names in `config.yml`,
`credentials.yml` and `endpoints.yml` (for example `handoff_component.HandoffScorer`), and a bot's
`actions/` imports `from handoff_component import ActionHandoff, ActionSessionStartWithHandoff`.

Modules that moved keep their old import paths (`handoff_component.moved_modules`): a model
trained before the move names `handoff_component.scorer.HandoffScorer` and must still load.
"""

from __future__ import annotations

import importlib
from typing import Any

from handoff_component import moved_modules

_LAZY = {
    "HandoffScorer": "handoff_component.bot.scorer",
    "HandoffPolicy": "handoff_component.bot.policy",
    "HandoffConnector": "handoff_component.bot.connector",
    "HandoffEventBroker": "handoff_component.bot.event_broker",
    "SocketIOInput": "handoff_component.bot.socketio_channel",
    "InstagramInput": "handoff_component.bot.instagram_channel",
    "TelegramInput": "handoff_component.bot.telegram_channel",
    "TwilioInput": "handoff_component.bot.twilio_channel",
    "ActionHandoff": "handoff_component.bot.actions",
    "ActionSessionStartWithHandoff": "handoff_component.bot.actions",
    "HandoffTrackerStore": "handoff_component.bot.tracker_store",
}

__all__ = list(_LAZY)

moved_modules.install()


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'handoff_component' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
