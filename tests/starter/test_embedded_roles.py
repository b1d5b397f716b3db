"""On the embedded PostgreSQL the worker and the web service connect as production's restricted
login (``store.roles``), never as the owner that runs the migrations: the database itself, by
its grants, refuses their connection any change to the recorded history.

The server is the embedded stack's own (``starter.embedded``), made ready by the very function
``serve`` calls before it starts the worker and the web service."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from audit import APP_ROLE, SIGNER_ROLE
from settings import PROJECT_DIR
from starter.embedded import DatabaseLogins, _embedded_postgres, prepare_database
from store.db import make_engine, make_session_factory, to_libpq_url
from store.roles import LOGIN_ROLES_SQL, SERVICE_LOGIN, SIGNER_LOGIN
from tests.audit.conftest import record_all, story

CASE_ID = "EMBEDDED-ROLES-1"
INIT_SCRIPT = PROJECT_DIR / "deploy" / "app-db-init.sh"

# what the worker's connection must never do to the log; each refused by the role's grants
CHANGES = [
    "UPDATE case_events SET summary = 'x'",
    "DELETE FROM case_events",
    "TRUNCATE case_events",
    "UPDATE probation_events SET summary = 'x'",
    "INSERT INTO audit_checkpoints (id) VALUES (999)",  # the signer's alone
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def logins(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseLogins]:
    data_dir = tmp_path_factory.mktemp("data")
    async with _embedded_postgres(data_dir) as owner_url:
        prepared = await prepare_database(owner_url, embedded=True)
        # the service's own connection records a case, as the worker's activities do
        engine = make_engine(prepared.service)
        try:
            await record_all(make_session_factory(engine), story(CASE_ID))
        finally:
            await engine.dispose()
        yield prepared


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(to_libpq_url(url))


async def test_the_worker_and_web_connect_as_the_restricted_login_not_the_owner(
    logins: DatabaseLogins,
) -> None:
    owner_name = make_url(logins.owner).username
    assert make_url(logins.service).username == SERVICE_LOGIN != owner_name
    assert logins.signer is not None and make_url(logins.signer).username == SIGNER_LOGIN
    owner = await _connect(logins.owner)
    service = await _connect(logins.service)
    try:
        # the owner of the tables is the one who migrated them; the service owns nothing
        assert await owner.fetchval(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'cases'"
        ) == (owner_name)
        assert await service.fetchval("SELECT current_user") == SERVICE_LOGIN
        row = await service.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        )
        assert row is not None and not any(row.values())
        assert await service.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", APP_ROLE)
        assert not await service.fetchval(
            "SELECT pg_has_role(current_user, $1, 'MEMBER')", SIGNER_ROLE
        )
    finally:
        await service.close()
        await owner.close()


@pytest.mark.parametrize("statement", CHANGES)
async def test_the_workers_connection_is_refused_by_its_grants(
    logins: DatabaseLogins, statement: str
) -> None:
    # the engine the worker makes from its DATABASE_URL
    engine = make_engine(logins.service)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM case_events")) > 0
            with pytest.raises(DBAPIError) as refused:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()
    # refused by the role's privileges before any row is touched: PostgreSQL's own "permission
    # denied", not the append-only trigger's refusal (both come with SQLSTATE 42501)
    assert getattr(refused.value.orig, "sqlstate", None) == "42501", refused.value
    assert "permission denied for table" in str(refused.value)
    assert "append-only" not in str(refused.value)


async def test_the_owner_passes_the_grants_and_is_stopped_by_the_trigger(
    logins: DatabaseLogins,
) -> None:
    """The contrast: the owner has every privilege, so the refusal it meets is the trigger's."""
    owner = await _connect(logins.owner)
    try:
        before = await owner.fetchval("SELECT count(*) FROM case_events")
        with pytest.raises(asyncpg.PostgresError, match="append-only") as refused:
            await owner.execute("UPDATE case_events SET summary = 'x'")
        assert "permission denied" not in str(refused.value)
        assert await owner.fetchval("SELECT count(*) FROM case_events") == before
    finally:
        await owner.close()


async def test_every_start_makes_the_logins_again_without_powers(logins: DatabaseLogins) -> None:
    owner = await _connect(logins.owner)
    try:
        # someone gave the login powers and took it out of its group
        await owner.execute(f"ALTER ROLE {SERVICE_LOGIN} SUPERUSER CREATEROLE")
        await owner.execute(f"REVOKE {APP_ROLE} FROM {SERVICE_LOGIN}")
        again = await prepare_database(logins.owner, embedded=True)
        assert again == logins
        row = await owner.fetchrow(
            "SELECT rolsuper, rolcreaterole, pg_has_role(rolname, $1, 'MEMBER') AS member "
            "FROM pg_roles WHERE rolname = $2",
            APP_ROLE,
            SERVICE_LOGIN,
        )
        assert row is not None and dict(row) == {
            "rolsuper": False,
            "rolcreaterole": False,
            "member": True,
        }
    finally:
        await owner.close()


def test_production_initialises_its_database_with_the_same_sql() -> None:
    script = INIT_SCRIPT.read_text("utf-8")
    assert LOGIN_ROLES_SQL in script


@pytest.mark.skipif(shutil.which("psql") is None, reason="needs the psql client")
async def test_the_production_init_script_makes_the_logins_with_their_passwords(
    logins: DatabaseLogins,
) -> None:
    url = make_url(logins.owner)
    env = {
        **os.environ,
        "PGHOST": str(url.query["host"]),
        "POSTGRES_USER": str(url.username),
        "POSTGRES_DB": str(url.database),
        "APP_SVC_PASSWORD": "svc-secret-1",
        "APP_SIGNER_PASSWORD": "signer-secret-2",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        ["sh", str(INIT_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "secret" not in done.stdout + done.stderr  # passwords are not echoed
    owner = await _connect(logins.owner)
    try:
        rows = await owner.fetch(
            "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1::text[])",
            [SERVICE_LOGIN, SIGNER_LOGIN],
        )
        hashes = {row["rolname"]: row["rolpassword"] for row in rows}
        assert set(hashes) == {SERVICE_LOGIN, SIGNER_LOGIN}
        assert all(h and h.startswith("SCRAM-SHA-256$") for h in hashes.values()), hashes
    finally:
        await owner.close()


def test_the_logins_need_no_password_on_the_private_socket(logins: DatabaseLogins) -> None:
    """The embedded server listens on no network address, only on a socket inside its own
    folder, which no one else may enter, and trusts that socket: the logins need no password,
    so none is made or written anywhere."""
    for url in (logins.service, logins.signer or ""):
        assert make_url(url).password is None
    socket_dir = Path(str(make_url(logins.owner).query["host"]))
    assert list(socket_dir.glob(".s.PGSQL.*")), f"no socket in {socket_dir}"
    assert socket_dir.stat().st_mode & 0o077 == 0


# --------------------------------------------------------------------------- the stack as it runs


@pytest.mark.devserver
async def test_the_embedded_worker_and_web_run_a_case_to_appointment_as_the_restricted_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` for real: its worker and web service, connected as ``appointments_svc``, take
    one case from its start to the appointment (events, outbox, probations, the first
    checkpoint as the signer), and the log still refuses that login any change."""
    from tests.test_embedded import ServeProcess, _free_port
    from tests.test_image import (
        TEST_SUPPLEMENT,
        appoint_through_the_api,
        make_accounts,
        the_story,
    )

    monkeypatch.setenv("CALENDAR_SUPPLEMENT", str(TEST_SUPPLEMENT))
    ports: list[int] = []
    while len(set(ports)) < 3:
        ports = [_free_port() for _ in range(3)]
    ui_port, temporal_port, api_port = ports
    run = ServeProcess(
        tmp_path / "data", ui_port=ui_port, temporal_port=temporal_port, api_port=api_port
    )
    try:
        fields = await asyncio.to_thread(run.wait_ready)
        service_url = fields["Database"].split()[0]
        assert make_url(service_url).username == SERVICE_LOGIN
        # accounts are made as the embedded server's owner, as `appointments accounts` does
        owner_url = make_url(service_url).set(username="postgres").render_as_string(False)
        people = await make_accounts(owner_url)
        case_id = "EMBEDDED-ROLES-CASE"
        base_url = f"http://127.0.0.1:{api_port}"
        await appoint_through_the_api(base_url, people, case_id, run.output)

        owner = await _connect(owner_url)
        try:
            # what the worker wrote as the restricted login is there, the first checkpoint too
            assert await owner.fetchval(
                "SELECT count(*) FROM case_events WHERE case_id = $1", case_id
            ) > len(the_story(case_id, ""))
            # the probation records its opening in a workflow of its own, after the answer
            assert await _rows_within(owner, "SELECT count(*) FROM probations", 1) == 1
            assert await owner.fetchval("SELECT count(*) FROM audit_checkpoints") >= 1
            users = {
                row["usename"]
                for row in await owner.fetch(
                    "SELECT DISTINCT usename FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            }
            assert SERVICE_LOGIN in users and "postgres" not in users, users
        finally:
            await owner.close()
        service = await _connect(service_url)
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await service.execute("UPDATE case_events SET summary = 'x'")
        finally:
            await service.close()
        assert await asyncio.to_thread(run.interrupt_and_wait) == 0, run.output()
    finally:
        run.kill()


async def _rows_within(conn: asyncpg.Connection, count_sql: str, expected: int) -> int:
    """The count, asked again until it is ``expected`` or 30 s have passed (a busy machine)."""
    deadline = time.monotonic() + 30
    while True:
        found = int(await conn.fetchval(count_sql))
        if found == expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)
