"""Seed files: applied at every start, they never undo what attendants and supervisors changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_component.service.seed import DemoSeedRefused, apply_seed
from tests.service.support import RunningService

ROOT = Path(__file__).resolve().parents[2]
SEED = """
teams:
  - name: support
attendants:
  - username: ana
    display_name: Ana
    password: given-at-seeding-1
    teams: [support]
"""


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed.yml"
    path.write_text(SEED)
    return path


async def _seed(service: RunningService, path: Path, **options: bool) -> dict[str, int]:
    return await apply_seed(path, service.ctx.teams, service.ctx.attendants, **options)


async def test_a_seed_never_resets_a_password_changed_after_seeding(
    service: RunningService, seed_file: Path
) -> None:
    await _seed(service, seed_file)
    ana = await service.login("ana", "given-at-seeding-1")
    sam = await service.attendant("sam", role="supervisor")
    changed = await sam.request(
        "PATCH", f"/api/attendants/{ana.id}", {"password": "chosen-by-ana-2"}
    )

    await _seed(service, seed_file)  # the next start applies the same file again
    old = await service.login_attempt("ana", "given-at-seeding-1")
    new = await service.login_attempt("ana", "chosen-by-ana-2")

    assert changed.status == 200, changed.body
    assert (old.status, new.status) == (401, 200)


async def test_resetting_passwords_from_a_seed_is_an_explicit_choice(
    service: RunningService, seed_file: Path
) -> None:
    await _seed(service, seed_file)
    await service.ctx.attendants.update(1, {"password": "chosen-by-ana-2"})

    await _seed(service, seed_file, reset_passwords=True)

    assert (await service.login_attempt("ana", "given-at-seeding-1")).status == 200


async def test_the_demo_seed_is_applied_only_in_demo_mode(service: RunningService) -> None:
    demo_seed = ROOT / "service.yml"

    with pytest.raises(DemoSeedRefused, match="published passwords"):
        await _seed(service, demo_seed)
    refused_count = await service.table_count("attendants")
    counts = await _seed(service, demo_seed, allow_demo=True)

    assert refused_count == 0
    assert counts["attendants"] == 4
