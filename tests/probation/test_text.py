"""A probation holding text refused today (a line break in the appointee's name, accepted
before names were checked) still runs on the service's data converter, and its early end is
recorded at once: the mail naming that person fails once for good instead of being retried
for an hour while the step waits (503 at the API after 60 s)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from gateway.client import DATA_CONVERTER
from starter.temporal_binaries import find_test_server
from tests.probation.conftest import HEAD, SmtpServer, probation_input, probation_runner
from workflows.probation_types import EndEarlyInput, ProbationInput, ProbationStatus
from workflows.types import RECORDED

NAME = "张\r\n三"


@pytest.fixture
async def service_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping server, with the converter the worker and the front ends use."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_test_server()), data_converter=DATA_CONVERTER
    )
    try:
        yield env
    finally:
        await env.shutdown()


def test_such_a_name_is_refused_today_but_read_back_as_recorded() -> None:
    fields = probation_input("C-1", date(2026, 11, 2)).model_dump()
    with pytest.raises(ValidationError, match="回车符"):
        ProbationInput.model_validate({**fields, "name": NAME})
    recorded = ProbationInput.model_validate({**fields, "name": NAME}, context=RECORDED)
    assert recorded.name == NAME


async def test_an_old_name_with_a_line_break_does_not_hold_the_early_end(
    service_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    new_id: str,
) -> None:
    async with probation_runner(service_env, session_factory, mail=smtp.config()) as runner:
        today = await runner.today()
        started = probation_input(new_id, today - timedelta(days=10))
        h = await runner.start(started.model_copy(update={"name": NAME}))
        end = EndEarlyInput(
            actor=HEAD, decided_by="县委常委会", decided_on=today, reason="严重违纪"
        )
        state = await asyncio.wait_for(runner.update(h, "end_early", end), timeout=30)
        assert state.status is ProbationStatus.ENDED_EARLY and state.name == NAME
        assert [e.kind for e in await runner.events(h.id)][-1] == "ended_early"
        rows = await runner.outbox(h.id)
        assert rows and all(r.status == "failed" and r.attempts == 1 for r in rows)
        assert all("邮件无法生成" in r.note for r in rows)
        assert smtp.about(h.id) == []
