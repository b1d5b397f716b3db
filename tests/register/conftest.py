"""The cadre register on the real PostgreSQL: a database of each test's own (the register and
its chain are global), and ``.xlsx`` files made as a department fills them in."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence

import pytest_asyncio
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import make_engine, make_session_factory
from workflows.types import Actor, Role

CLERK = Actor(name="王科员", role=Role.CLERK)


def workbook(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest_asyncio.fixture(loop_scope="session")
async def own_sessions(
    migrated_database_url: str,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(migrated_database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()
