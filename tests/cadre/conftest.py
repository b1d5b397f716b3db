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
from decimal import Decimal
from typing import TypeVar

import pytest_asyncio
from fastapi import FastAPI
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from gateway import cadre
from settings import load_settings
from tests.workflows.conftest import (  # noqa: F401  (fixture)
    SETTLE_SECONDS,
    CaseRunner,
    case_runner,
    time_env,
)
from workflows.capability_types import CapabilityCampaignInput, CapabilityResult
from workflows.double_evaluation_types import DoubleEvaluationInput, LeaderTallies
from workflows.rules.working_days import SHANGHAI
from workflows.types import Actor, Role

T = TypeVar("T")
CLERK = Actor(name="王科员", role=Role.CLERK)
FAIL = Decimal(30)  # a failing score in the default policy (its pass mark 60)


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

    async def start_campaign(self, campaign_id: str) -> date:
        """A campaign tested and notified today in which one cadre, C1 张三, fails (30 marks):
        his retest opens after the self-study; the day it was started on."""
        day = await self.today()
        await cadre.start_campaign(
            self.env.client,
            self.runner.task_queue,
            CapabilityCampaignInput(
                campaign_id=campaign_id,
                title="能力测试",
                tested_on=day,
                notified_on=day,
                results=[
                    CapabilityResult(
                        person_id="C1", name="张三", unit="县财政局", score=Decimal(30)
                    )
                ],
                opened_by=CLERK,
            ),
        )
        return day

    async def start_evaluation(self, evaluation_id: str, leaders: list[LeaderTallies]) -> date:
        """A double evaluation held today over ``leaders``; the day it was started on."""
        day = await self.today()
        await cadre.start_evaluation(
            self.env.client,
            self.runner.task_queue,
            DoubleEvaluationInput(
                evaluation_id=evaluation_id,
                title="双重考核",
                held_on=day,
                leaders=leaders,
                opened_by=CLERK,
            ),
        )
        return day


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
