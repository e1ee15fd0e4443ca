"""`handoff-service` as people run it: the console script, a real process, a real port."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from handoff_component import contract
from tests.service.support import free_port, handoff_payload
from tests.waiting import answers, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _command() -> list[str]:
    script = shutil.which("handoff-service", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "handoff_component.service"]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"the service exited: {process.stdout.read() if process.stdout else ''}"
            )
        return answers(f"{url}/health")

    wait_until(healthy, timeout=timeout, what="the service's /health")


def _post(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_console_script_serves_a_seeded_database(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "cli.db"
    env = {**os.environ, "HANDOFF_SECRET": "cli-secret"}
    process = subprocess.Popen(
        [
            *_command(),
            "--db",
            f"sqlite:///{db}",
            "--port",
            str(port),
            "--seed",
            str(ROOT / "service.yml"),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        status, login = _post(
            f"{url}/api/auth/login",
            {"username": "sam", "password": "demo-password-sam"},
            {"Content-Type": "application/json"},
        )
        body = json.dumps(handoff_payload("cli-conv", team="billing")).encode()
        created = urllib.request.urlopen(
            urllib.request.Request(
                f"{url}{contract.SERVICE_HANDOFFS_PATH}",
                data=body,
                headers=contract.signed_headers("cli-secret", body),
                method="POST",
            ),
            timeout=10,
        )
    finally:
        process.terminate()
        process.wait(timeout=20)

    assert status == 200
    assert login["attendant"]["role"] == "supervisor"
    assert created.status == 201
    assert db.exists()


def test_admin_commands_create_teams_and_attendants(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/admin.db"

    team = subprocess.run(
        [*_command(), "create-team", "returns", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    person = subprocess.run(
        [
            *_command(),
            "create-attendant",
            "zoe",
            "--password",
            "zoe-password-1",
            "--role",
            "supervisor",
            "--team",
            "returns",
            "--db",
            db,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    again = subprocess.run(
        [*_command(), "create-team", "returns", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert team.returncode == 0, team.stderr
    assert json.loads(person.stdout)["teams"] == [{"id": 1, "name": "returns"}]
    assert again.returncode != 0
    assert "exists" in again.stderr


@pytest.mark.parametrize("url", ["mysql://x/y", "oracle://z"])
def test_an_unsupported_database_is_refused_clearly(url: str) -> None:
    from handoff_component.service.db import normalise_url

    with pytest.raises(ValueError, match="use sqlite or postgresql"):
        normalise_url(url)


def test_database_urls_are_normalised_to_async_drivers() -> None:
    from handoff_component.service.db import normalise_url

    assert normalise_url("postgresql://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert normalise_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert normalise_url("sqlite:///.data/x.db") == "sqlite+aiosqlite:///.data/x.db"
