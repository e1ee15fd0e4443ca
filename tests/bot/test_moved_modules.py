"""Bots and models made before the Rasa modules moved into `bot/` keep working.

A trained model names each graph component by the module path it had at training time
(`handoff_component.scorer.HandoffScorer`), credentials name channels by module path, and bots
import the actions from `handoff_component.actions`: each of those still resolves, to the one
class that lives in `bot/` now.
"""

from __future__ import annotations

import importlib
import json
import tarfile
from pathlib import Path

import pytest
from rasa.shared.utils.common import class_from_module_path

import handoff_component
from handoff_component.bot.actions import ActionHandoff, ActionSessionStartWithHandoff
from handoff_component.bot.connector import HandoffConnector
from handoff_component.bot.event_broker import HandoffEventBroker
from handoff_component.bot.policy import HandoffPolicy
from handoff_component.bot.scorer import HandoffScorer
from handoff_component.bot.socketio_channel import SocketIOInput
from handoff_component.moved_modules import MOVED


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_an_old_module_path_imports_the_moved_module_itself(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


@pytest.mark.parametrize(
    "path, cls",
    [
        ("handoff_component.HandoffScorer", HandoffScorer),
        ("handoff_component.HandoffPolicy", HandoffPolicy),
        ("handoff_component.HandoffConnector", HandoffConnector),
        ("handoff_component.HandoffEventBroker", HandoffEventBroker),
        ("handoff_component.SocketIOInput", SocketIOInput),
        ("handoff_component.ActionHandoff", ActionHandoff),
        ("handoff_component.ActionSessionStartWithHandoff", ActionSessionStartWithHandoff),
        ("handoff_component.scorer.HandoffScorer", HandoffScorer),
        ("handoff_component.policy.HandoffPolicy", HandoffPolicy),
        ("handoff_component.socketio_channel.SocketIOInput", SocketIOInput),
        ("handoff_component.actions.ActionHandoff", ActionHandoff),
    ],
)
def test_rasa_finds_each_configured_name(path: str, cls: type) -> None:
    """Rasa resolves config.yml, credentials.yml, endpoints.yml and model names this way."""
    assert class_from_module_path(path) is cls


@pytest.mark.parametrize("name", sorted(handoff_component.__all__))
def test_every_lazy_export_is_found_by_rasa_as_the_class_in_bot(name: str) -> None:
    """Each name a bot may configure (`handoff_component.X`) is the class of its `bot/` module."""
    found = class_from_module_path(f"handoff_component.{name}")
    assert found.__module__.startswith("handoff_component.bot.")
    assert found is getattr(importlib.import_module(found.__module__), name)


def _as_trained_before_the_move(model: Path, folder: Path) -> Path:
    """A copy of `model` whose metadata names the components by their pre-`bot/` paths."""
    unpacked = folder / "unpacked"
    with tarfile.open(model) as archive:
        archive.extractall(unpacked)  # the model this test suite trained
    metadata_file = unpacked / "metadata.json"
    text = metadata_file.read_text(encoding="utf-8")
    new_paths = ("handoff_component.bot.scorer.", "handoff_component.bot.policy.")
    assert all(path in text for path in new_paths), "the model should name the new paths"
    for path in new_paths:
        text = text.replace(path, path.replace(".bot.", "."))
    json.loads(text)
    metadata_file.write_text(text, encoding="utf-8")
    old_model = folder / "before-the-move.tar.gz"
    with tarfile.open(old_model, "w:gz", compresslevel=1) as archive:
        for item in sorted(unpacked.iterdir()):
            archive.add(item, arcname=item.name)
    return old_model


async def test_a_model_trained_before_the_move_loads_scores_and_hands_off(
    trained_model: Path, tmp_path: Path
) -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    old_model = _as_trained_before_the_move(trained_model, tmp_path)
    agent = Agent.load(str(old_model))

    parsed = await agent.parse_message("this is useless, I want to talk to a human")
    await agent.processor.log_message(UserMessage("I want to talk to a human", sender_id="c1"))
    prediction = await agent.processor.predict_next_for_sender_id("c1")

    assert parsed["handoff"]["human_request"] > 0.5
    assert prediction is not None
    assert prediction["policy"].endswith("HandoffPolicy")
    best = max(prediction["scores"], key=lambda s: s["score"])
    assert best["action"] == "action_handoff"
