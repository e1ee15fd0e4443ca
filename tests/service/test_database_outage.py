"""A database the service cannot reach is a 503 to retry, and nothing half-written is left behind.

The outage is real: the service's engine is pointed at a PostgreSQL port nobody listens on (or a
SQLite "file" that is a folder) for the duration of the test, then given back. The
end-to-end version, a 30 s PostgreSQL outage through a TCP proxy while customers talk, is
tests/e2e/test_faults.py::test_a_30_s_database_outage_loses_and_duplicates_nothing.
"""

from __future__ import annotations

from pathlib import Path

from handoff_component.service.db import create_engine
from tests.service.support import RunningService, free_port


def _unreachable_url(service: RunningService, tmp_path: Path) -> str:
    if service.ctx.db.dialect == "postgresql":
        return f"postgresql://postgres@127.0.0.1:{free_port()}/gone"
    return f"sqlite+aiosqlite:///{tmp_path}"  # a folder: SQLite cannot open it


async def test_an_unreachable_database_answers_503_and_the_request_can_be_sent_again(
    service: RunningService, tmp_path: Path
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket_id = (await service.handoff("conv-1")).body["ticket"]["id"]
    working = service.ctx.db.engine
    service.ctx.db.engine = create_engine(_unreachable_url(service, tmp_path))
    try:
        listed = await ana.get("/api/tickets")
        claimed = await ana.post(f"/api/tickets/{ticket_id}/claim")
        from_rasa = await service.handoff("conv-2")
    finally:
        await service.ctx.db.engine.dispose()
        service.ctx.db.engine = working

    for answer in (listed, claimed, from_rasa):
        assert answer.status == 503, answer.body
        assert answer.body["error"]["code"] == "database_unavailable"
        assert answer.headers["Retry-After"] == "5"
    # Nothing changed while the database was away; the same requests now succeed.
    assert (await ana.get(f"/api/tickets/{ticket_id}")).body["ticket"]["status"] == "open"
    assert (await ana.post(f"/api/tickets/{ticket_id}/claim")).status == 200
    assert (await service.handoff("conv-2")).status in (200, 201)
