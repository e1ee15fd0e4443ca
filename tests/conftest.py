"""Fixtures shared by the whole suite: the trained example bot and its running processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import loud

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The example bot's model, trained once per content hash and cached under models/."""
    from scripts.project_model import ensure_model

    return ensure_model(PROJECT_DIR)


@pytest.fixture(scope="session")
def callback_listener() -> Iterator:
    """The customer's end of Rasa's callback channel: a local HTTP server bot messages go to."""
    from tests.e2e.clients import CallbackListener

    listener = CallbackListener()
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture(scope="session")
def bot_stack(
    trained_model: Path, callback_listener, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    """Rasa, the action server and the handoff service on free ports, state in a temp folder."""
    from scripts.stack import Ports, Stack

    stack = Stack(
        model=trained_model,
        ports=Ports.free(),
        data_dir=tmp_path_factory.mktemp("bot-stack"),
        extra_env={"CALLBACK_URL": callback_listener.url},
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def platforms(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Local stand-ins of Meta's Graph API, Twilio, Telegram and Slack behind one gateway."""
    from scripts.stack import Ports
    from tests.e2e.platforms.local_platforms import start_local_platforms

    local = start_local_platforms(tmp_path_factory.mktemp("platforms"), Ports.free())
    try:
        yield local
    finally:
        local.close()


@pytest.fixture(scope="session")
def platform_stack(
    trained_model: Path, platforms, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    """One stack for every messaging-platform test (tests/e2e and tests/browser): Rasa with
    Messenger, Instagram, Twilio, Telegram and Slack configured against the stand-ins, under the
    network guard. Started once per session, since a Rasa start is most of such a test's time."""
    from scripts.stack import Stack
    from tests.e2e.platforms.local_platforms import CREDENTIALS

    stack = Stack(
        model=trained_model,
        ports=platforms.ports,
        data_dir=tmp_path_factory.mktemp("platform-stack"),
        credentials=CREDENTIALS,
        extra_env=platforms.env(),
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def demo_attendant() -> tuple[str, str]:
    """A support attendant from the example seed (service.yml): username and password."""
    return ("ana", "demo-password-ana")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for message in loud.skipped:
        terminalreporter.write_sep("!", message, red=True, bold=True)
