"""Teams, attendants and canned replies from a YAML file (`handoff-service --seed service.yml`).

Seeding is idempotent: existing teams and attendants are brought in line with the file, so the same
file can be applied at every start. Passwords are create-only: a seed sets the password of an
attendant it creates and never touches an existing one's (an attendant who changed the password
they were given keeps it), unless asked to with `reset_passwords` (`seed --reset-passwords`).

A file with `demo: true` at the top is a demo seed (the example bot's `service.yml`, whose
passwords are published in the README): it is refused unless the service runs in demo mode, so a
production start cannot create accounts anyone can sign in to.

    teams:
      - name: support
        display_name: Customer support
        webhook_url: https://chat.example.com/hooks/support   # optional
    attendants:
      - username: alice
        display_name: Alice
        password: change-me-please
        role: attendant            # or supervisor
        teams: [support]
    canned_replies:
      support:
        - title: Greeting
          text: Hello, I am taking over from the assistant. How can I help?
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from handoff_component.contract import ContractError, Reader
from handoff_component.service.attendants import AttendantStore
from handoff_component.service.teams import TeamStore

SECTIONS = {"demo", "teams", "attendants", "canned_replies"}


class DemoSeedRefused(ContractError):
    """A demo seed (published passwords) applied outside demo mode."""


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ContractError(key, "must be a list")
    return value


def refuse_demo_seed(path: str | Path, data: Any, *, allow_demo: bool) -> None:
    """`DemoSeedRefused` if `data` (the parsed file) is a demo seed and demo mode is off."""
    if isinstance(data, dict) and data.get("demo") is True and not allow_demo:
        raise DemoSeedRefused(
            "demo",
            f"{path} is a demo seed (demo: true): its accounts have published passwords. "
            "Apply it only in demo mode (--demo); for production write a seed of your own "
            "(deploy/seed.production.yml) and create attendants with create-attendant",
        )


def read_seed(path: str | Path) -> Any:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


async def apply_seed(
    path: str | Path,
    teams: TeamStore,
    attendants: AttendantStore,
    *,
    allow_demo: bool = False,
    reset_passwords: bool = False,
) -> dict[str, int]:
    data = read_seed(path)
    if not isinstance(data, dict):
        raise ContractError(None, f"{path}: the seed must be a mapping")
    unknown = set(data) - SECTIONS
    if unknown:
        raise ContractError(sorted(unknown)[0], f"{path}: not a known section")
    refuse_demo_seed(path, data, allow_demo=allow_demo)
    if "demo" in data and not isinstance(data["demo"], bool):
        raise ContractError("demo", f"{path}: must be true or false")
    counts = {"teams": 0, "attendants": 0, "canned_replies": 0}
    for index, entry in enumerate(_list(data, "teams")):
        reader = Reader(entry, f"teams[{index}]")
        await teams.upsert(
            name=reader.string("name", max_length=100),
            display_name=reader.string("display_name", required=False),
            webhook_url=reader.string("webhook_url", required=False, max_length=2000),
            webhook_secret=reader.string("webhook_secret", required=False),
        )
        reader.done()
        counts["teams"] += 1
    for index, entry in enumerate(_list(data, "attendants")):
        reader = Reader(entry, f"attendants[{index}]")
        await attendants.upsert(
            username=reader.string("username", max_length=100),
            display_name=reader.string("display_name"),
            password=reader.string("password", required=False, max_length=500),
            role=reader.string(
                "role", required=False, choices=("attendant", "supervisor"), default="attendant"
            ),
            team_names=reader.list_of("teams", lambda v, n: str(v), required=False),
            reset_password=reset_passwords,
        )
        reader.done()
        counts["attendants"] += 1
    canned = data.get("canned_replies") or {}
    if not isinstance(canned, dict):
        raise ContractError("canned_replies", "must map team names to lists of replies")
    for team_name, replies in canned.items():
        team = await teams.by_name(team_name)
        if team is None:
            raise ContractError(f"canned_replies.{team_name}", "is not a team of this seed")
        existing = {r["title"]: r for r in await teams.canned_replies(team["id"])}
        for index, entry in enumerate(replies or []):
            reader = Reader(entry, f"canned_replies.{team_name}[{index}]")
            title, text = reader.string("title"), reader.string("text", max_length=10_000)
            reader.done()
            if title in existing:
                await teams.change_canned_reply(team["id"], existing[title]["id"], {"text": text})
            else:
                await teams.add_canned_reply(team["id"], title, text, author_id=None)  # type: ignore[arg-type]
            counts["canned_replies"] += 1
    return counts
