"""The built wheel ships the learned scorers' weights and scores with them, offline.

The project's build backend needs setuptools >= 77 (the SPDX `license` string), which a test
cannot download (no network in tests) and which Rasa's pin (< 70.4) keeps out of the venv. So
the wheel is built offline, with the venv's setuptools, from a copy of the project whose
`license` line is written in the older table form; everything that decides the wheel's content
(`[tool.setuptools.packages.find]` and `package-data`) is the project's own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
WEIGHTS = "handoff_component/core/models/scorers.npz"

OFFLINE_SCORING = r"""
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
import handoff_component.core.learned as learned
assert learned.WEIGHTS_FILE.is_file(), learned.WEIGHTS_FILE
assert str(learned.WEIGHTS_FILE).startswith(sys.argv[1]), learned.WEIGHTS_FILE
from handoff_component.core.scoring import TurnScorer
scores = TurnScorer().score("this is the third time I ask, absolutely useless").to_dict()
assert scores["frustration"] >= 0.7, scores
print("ok", learned.WEIGHTS_FILE)
"""


WHEEL_COMMAND = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
WHEEL_COMMAND += ["--no-index", "-q"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(
        PROJECT_DIR / "handoff_component",
        source / "handoff_component",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(PROJECT_DIR / "README.md", source / "README.md")
    pyproject = (PROJECT_DIR / "pyproject.toml").read_text("utf-8")
    pyproject = re.sub(r'^license = "([^"]+)"$', r'license = {text = "\1"}', pyproject, flags=re.M)
    (source / "pyproject.toml").write_text(pyproject, "utf-8")
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [*WHEEL_COMMAND, str(source), "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_contains_the_weights_and_their_notice(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()

    assert WEIGHTS in names
    assert "handoff_component/core/models/NOTICE.txt" in names
    assert zipfile.ZipFile(wheel).getinfo(WEIGHTS).file_size > 100_000


def test_the_installed_wheel_scores_with_its_own_weights_without_network(
    wheel: Path, tmp_path: Path
) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)

    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCORING, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok ")


def test_the_wheel_ships_the_templates_init_writes_a_bot_from(wheel: Path, tmp_path: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for template in ("service.yml", "handoff.yml", "domain.yml"):
        assert f"handoff_component/cli/templates/{template}" in names
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    bot = tmp_path / "bot"
    shutil.copytree(PROJECT_DIR / "tests" / "data" / "bots" / "helpdesk", bot)

    done = subprocess.run(
        [sys.executable, "-m", "handoff_component", "init", str(bot), "--dry-run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )

    assert done.returncode == 1, done.stdout + done.stderr[-3000:]
    assert "+++ b/service.yml" in done.stdout and "+  - name: support" in done.stdout
    assert "+++ b/handoff.yml" in done.stdout
