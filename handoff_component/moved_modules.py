"""The import paths of modules that moved into `bot/`, `cli/` and `contract/`, kept working.

Rasa writes each graph component's module path into a trained model (`"uses":
"handoff_component.scorer.HandoffScorer"` in the model's metadata.json) and resolves it when the
model loads; bots import the plugin's actions and name channels by module path
(`handoff_component.socketio_channel.SocketIOInput` in credentials.yml). So an old path must
still import. Each one is an alias of the new module, the very same module object, not a copy:
there is one HandoffScorer class whichever name imported it.

Code in this repository uses the new paths; tests/test_layers.py checks that none imports an
old one.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

MOVED: dict[str, str] = {
    "handoff_component.actions": "handoff_component.bot.actions",
    "handoff_component.connector": "handoff_component.bot.connector",
    "handoff_component.event_broker": "handoff_component.bot.event_broker",
    "handoff_component.outbox": "handoff_component.bot.outbox",
    "handoff_component.policy": "handoff_component.bot.policy",
    "handoff_component.scorer": "handoff_component.bot.scorer",
    "handoff_component.service_client": "handoff_component.bot.service_client",
    "handoff_component.socketio_channel": "handoff_component.bot.socketio_channel",
    "handoff_component.slots": "handoff_component.contract.slots",
    "handoff_component.cli_rules": "handoff_component.cli.rules",
    "handoff_component.cli_score": "handoff_component.cli.score",
}


class _Alias(importlib.abc.Loader):
    """Loads an old name as the module now at `target`."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the target module was executed when it was imported."""


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old names of `MOVED`, after every ordinary finder has had its turn."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        new_name = MOVED.get(fullname)
        if new_name is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(new_name))


def install() -> None:
    """Add the finder once per interpreter (the package's `__init__` calls it)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
