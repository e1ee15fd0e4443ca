"""Fixtures of the HandoffPolicy tests (tests/bot/policy_support.py has the helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain

from handoff_component.bot.policy import HandoffPolicy
from tests.bot.policy_support import DOMAIN, trained


@pytest.fixture()
def domain() -> Domain:
    return Domain.from_yaml(DOMAIN)


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


@pytest.fixture()
def policy(tmp_path: Path, domain: Domain, storage: LocalModelStorage) -> HandoffPolicy:
    return trained(tmp_path, domain, storage)
