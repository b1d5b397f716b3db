"""The doors of the capability test and the double evaluation on the time-skipping Temporal
server with a real worker and the real PostgreSQL: the console and the API as one app, and
sheets as a department fills them in."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import pytest_asyncio
from fastapi import FastAPI
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import load_settings
from tests.workflows.conftest import (  # noqa: F401  (fixture)
    SETTLE_SECONDS,
    CaseRunner,
    case_runner,
    time_env,
)
from workflows.rules.working_days import SHANGHAI

T = TypeVar("T")


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


def csv_file(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


@dataclass
class Stack:
    runner: CaseRunner
    app: FastAPI

    @property
    def env(self) -> WorkflowEnvironment:
        return self.runner.env

    async def today(self) -> date:
        return (await self.env.get_current_time()).astimezone(SHANGHAI).date()


@pytest_asyncio.fixture
async def stack(
    time_env: WorkflowEnvironment,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Stack]:
    async with case_runner(time_env, session_factory) as runner:
        settings = load_settings({"TASK_QUEUE": runner.task_queue})
        yield Stack(runner, create_app(settings, time_env.client, session_factory))


async def settle(check: Callable[[], Awaitable[T | None]]) -> T:
    """``check()``'s first answer that is not None, waiting for the worker up to
    ``SETTLE_SECONDS``."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        found = await check()
        if found is not None:
            return found
        assert time.monotonic() < deadline, "the worker did not get there in time"
        await asyncio.sleep(0.1)
