"""The layer rules, checked in fresh interpreters: the service never imports Rasa, the core
imports neither Sanic nor a database."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after_import(module: str, forbidden: tuple[str, ...]) -> list[str]:
    code = f"import sys, {module};print(','.join(m for m in {forbidden!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [m for m in result.stdout.strip().split(",") if m]


SERVICE_MODULES = (
    "handoff_component.service",
    "handoff_component.service.app",
    "handoff_component.service.__main__",
    "handoff_component.service.tickets",
)


def test_the_service_never_imports_rasa() -> None:
    """One interpreter imports the whole service (app, CLI, stores): no Rasa comes with it."""
    assert (
        _modules_after_import(", ".join(SERVICE_MODULES), ("rasa", "rasa_sdk", "tensorflow")) == []
    )


@pytest.mark.parametrize(
    "module", ["handoff_component.core.ticket_lifecycle", "handoff_component.contract"]
)
def test_the_core_and_the_contract_import_no_framework(module: str) -> None:
    assert _modules_after_import(module, ("rasa", "sanic", "sqlalchemy", "aiohttp")) == []
