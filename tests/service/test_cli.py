"""`handoff-service` as people run it: the console script, a real process, a real port."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
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


CLI_SECRET = "cli-shared-secret-0123456789abcdefghijklmno"
CLI_SESSION_SECRET = "cli-session-secret-zyxwvutsrqponmlkjihgfedcba"
SEED = """
teams:
  - name: support
  - name: billing
attendants:
  - username: sam
    display_name: Sam
    password: first-password-of-sam
    role: supervisor
    teams: [support, billing]
"""


def _clean_env(**values: str) -> dict[str, str]:
    """The environment without any HANDOFF_* setting of the machine, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    return {**env, **values}


def _start(tmp_path: Path, arguments: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*_command(), *arguments],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=20)
    return output


def test_the_console_script_serves_a_seeded_database(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "cli.db"
    seed = tmp_path / "seed.yml"
    seed.write_text(SEED)
    env = _clean_env(HANDOFF_SECRET=CLI_SECRET, HANDOFF_SESSION_SECRET=CLI_SESSION_SECRET)
    process = _start(
        tmp_path, ["--db", f"sqlite:///{db}", "--port", str(port), "--seed", str(seed)], env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        status, login = _post(
            f"{url}/api/auth/login",
            {"username": "sam", "password": "first-password-of-sam"},
            {"Content-Type": "application/json"},
        )
        body = json.dumps(handoff_payload("cli-conv", team="billing")).encode()
        created = urllib.request.urlopen(
            urllib.request.Request(
                f"{url}{contract.SERVICE_HANDOFFS_PATH}",
                data=body,
                headers=contract.signed_headers(CLI_SECRET, body),
                method="POST",
            ),
            timeout=10,
        )
    finally:
        output = _stop(process)

    assert status == 200
    assert login["attendant"]["role"] == "supervisor"
    assert created.status == 201
    assert db.exists()
    assert "DEMO MODE" not in output


def _refused_start(tmp_path: Path, env: dict[str, str], *arguments: str) -> str:
    process = _start(tmp_path, ["--port", str(free_port()), *arguments], env)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        output = _stop(process)
        raise AssertionError(f"the service started:\n{output}") from None
    assert process.returncode == 2, output
    return output


def test_serving_without_secrets_is_refused_naming_each_variable(tmp_path: Path) -> None:
    output = _refused_start(tmp_path, _clean_env())

    assert "refusing to start with an insecure configuration" in output
    assert "HANDOFF_SECRET is not set" in output
    assert "HANDOFF_SESSION_SECRET is not set" in output
    assert not (tmp_path / ".data").exists()  # refused before opening the database


def test_serving_with_the_production_examples_placeholders_is_refused(tmp_path: Path) -> None:
    example = (ROOT / "deploy" / "production.env.example").read_text()
    placeholders = dict(
        line.split("=", 1)
        for line in example.splitlines()
        if line.startswith(("HANDOFF_SECRET=", "HANDOFF_SESSION_SECRET="))
    )

    output = _refused_start(tmp_path, _clean_env(**placeholders))

    assert "HANDOFF_SECRET is a placeholder value" in output
    assert "HANDOFF_SESSION_SECRET is a placeholder value" in output


def test_serving_with_the_rasa_secret_as_the_only_secret_is_refused(tmp_path: Path) -> None:
    output = _refused_start(tmp_path, _clean_env(HANDOFF_SECRET=CLI_SECRET))

    assert "HANDOFF_SESSION_SECRET is not set" in output
    assert "HANDOFF_SECRET is" not in output


def test_demo_mode_starts_with_no_configuration_and_says_so_loudly(tmp_path: Path) -> None:
    port = free_port()
    process = _start(
        tmp_path, ["--demo", "--port", str(port), "--seed", str(ROOT / "service.yml")], _clean_env()
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        status, login = _post(
            f"{url}/api/auth/login",
            {"username": "sam", "password": "demo-password-sam"},
            {"Content-Type": "application/json"},
        )
    finally:
        output = _stop(process)

    assert status == 200 and login["attendant"]["role"] == "supervisor"
    assert "!!! DEMO MODE" in output


def test_the_demo_seed_is_refused_outside_demo_mode(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/prod.db"
    env = _clean_env(HANDOFF_SECRET=CLI_SECRET, HANDOFF_SESSION_SECRET=CLI_SESSION_SECRET)

    seeded = subprocess.run(
        [*_command(), "seed", str(ROOT / "service.yml"), "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    served = _refused_start(tmp_path, env, "--db", db, "--seed", str(ROOT / "service.yml"))
    listed = subprocess.run(
        [*_command(), "create-team", "probe", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )

    assert seeded.returncode != 0
    assert "is a demo seed (demo: true)" in seeded.stderr
    assert "is a demo seed (demo: true)" in served
    # Nothing of the demo seed was applied: the first team made afterwards has id 1.
    assert json.loads(listed.stdout)["id"] == 1


def test_a_password_can_be_given_on_standard_input(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/stdin.db"

    made = subprocess.run(
        [*_command(), "create-attendant", "zoe", "--password-stdin", "--db", db],
        input="zoe-password-from-stdin\n",
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["username"] == "zoe"
    assert "zoe-password-from-stdin" not in made.stdout + made.stderr


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


def test_the_served_process_cuts_off_tricklers_and_connection_floods(tmp_path: Path) -> None:
    """The bounds of tests/service/test_slow_peers.py in the real process (uvloop, workers)."""
    import socket

    port = free_port()
    env = _clean_env(
        HANDOFF_SECRET=CLI_SECRET,
        HANDOFF_SESSION_SECRET=CLI_SESSION_SECRET,
        HANDOFF_REQUEST_DEADLINE_SECONDS="1",
        HANDOFF_MAX_CONNECTIONS_PER_ADDRESS="2",
    )
    process = _start(tmp_path, ["--db", f"sqlite:///{tmp_path}/b.db", "--port", str(port)], env)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        trickler = socket.create_connection(("127.0.0.1", port), timeout=15)
        trickler.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n")
        answer = b""
        for byte in b'{"username": "' + b"a" * 80:
            try:
                trickler.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.2)  # the attack: one byte at a time
            trickler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                answer += trickler.recv(4096)
            trickler.setblocking(True)
            if answer:
                break
        second = socket.create_connection(("127.0.0.1", port), timeout=15)
        third = socket.create_connection(("127.0.0.1", port), timeout=15)
        fourth = socket.create_connection(("127.0.0.1", port), timeout=15)
        refused = fourth.recv(16)
        for open_socket in (trickler, second, third, fourth):
            open_socket.close()
    finally:
        output = _stop(process)

    assert answer.startswith(b"HTTP/1.1 408"), (answer, output[-2000:])
    assert refused == b""
    assert "Traceback" not in output, output[-3000:]
