"""The board under a flood: thousands of long objections against one case in its notice,
posted through the board's real form handler, four at a time, each from an address of its
own behind a trusted proxy (so the per-address limit does not stop them). The case must
live through it: still active, every objection listed, its history far from Temporal's
limit. Before the durable intake and the small answers, 768 such posts ended the case.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import load_settings
from starter.temporal_binaries import find_temporal_cli
from tests.api.conftest import client_for
from tests.conftest import free_port
from tests.web.test_board import RECEIPT_NUMBER, Board, Timeline, case_on
from tests.workflows.conftest import case_runner
from web.board.form import TEXT_MAX
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.types import CaseStage, CaseStatus

OBJECTIONS = 2_000
pytestmark = pytest.mark.devserver
AT_ONCE = 4
MAX_HISTORY_BYTES = 10 * 1024 * 1024
PROXY = "127.0.0.1"  # the test client's address, named as the trusted proxy
SUGGEST_AFTER_EVENTS = 8_000  # the server's default is 4 Ki events; 2,000 posts pass it


@pytest.fixture
async def board(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[Board]:
    """The service's app on a dev server of its own that suggests continue-as-new early,
    as a production server would for a case ten times as flooded."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        port=free_port(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER_EVENTS}",
        ],
    )
    try:
        async with case_runner(env, session_factory) as runner:
            settings = load_settings({"TASK_QUEUE": runner.task_queue, "TRUSTED_PROXIES": PROXY})
            app = create_app(settings, env.client, session_factory)
            async with client_for(app) as http:
                yield Board(http, runner, app)
    finally:
        await env.shutdown()


def text(n: int) -> str:
    head = f"第{n}号反映："
    return head + "该同志作风问题" * ((TEXT_MAX - len(head)) // 7)


async def test_two_thousand_objections_leave_the_case_alive(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    handle = await board.on_notice(case_on(now, new_case_id), now)
    token = await board.token(new_case_id)
    url = f"/board/notices/{new_case_id}/objections"

    async def post(n: int) -> str:
        form = {"csrf": token, "person_id": "p1", "text": text(n), "anonymous": "1"}
        address = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        response = await board.http.post(url, data=form, headers={"X-Forwarded-For": address})
        assert response.status_code == 200, (n, response.status_code, response.text[:500])
        found = RECEIPT_NUMBER.search(response.text)
        assert found, response.text
        return found.group(1)

    receipts: list[str] = []
    for first in range(0, OBJECTIONS, AT_ONCE):
        receipts += await asyncio.gather(*(post(n) for n in range(first, first + AT_ONCE)))
    assert len(set(receipts)) == OBJECTIONS

    # a copy of one of them is counted, not filed again
    assert await post(7) == receipts[7]

    state = await board.state(handle)
    assert (state.status, state.stage) == (CaseStatus.ACTIVE, CaseStage.PUBLIC_NOTICE)
    assert sorted(o.objection_id for o in state.objections) == sorted(receipts)
    intake = await board.intake(new_case_id)
    assert len(intake) == OBJECTIONS and all(i.delivered for i in intake)
    assert {i.receipt: i.copies for i in intake}[receipts[7]] == 2

    # the history's size as Temporal counts it: its events as stored (protobuf), per run;
    # the case continued as new when the server suggested it
    runs = [
        run async for run in board.runner.env.client.list_workflows(f'WorkflowId = "{handle.id}"')
    ]
    sizes = []
    for run in runs:
        history = await board.runner.env.client.get_workflow_handle(
            handle.id, run_id=run.run_id
        ).fetch_history()
        sizes.append(sum(event.ByteSize() for event in history.events))
    size, total = max(sizes), sum(sizes)
    print(
        f"\n{OBJECTIONS} objections of {TEXT_MAX} characters: {len(runs)} runs, the largest "
        f"{size:,} bytes, all {total:,} bytes ({total // OBJECTIONS:,} per objection)"
    )
    assert len(runs) >= 2, "the case never continued as new"
    assert size < MAX_HISTORY_BYTES, size


async def test_an_objection_the_case_cannot_take_now_is_kept_and_sent_later(
    board: Board, new_case_id: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    now = Timeline.current()
    handle = await board.on_notice(case_on(now, new_case_id), now)
    token = await board.token(new_case_id)
    url = f"/board/notices/{new_case_id}/objections"
    form = {"csrf": token, "person_id": "p1", "anonymous": "1"}
    # Temporal lost after the notice was read: the board shows the notice from its cache,
    # takes the objection in and says it will be passed on
    dead = await Client.connect("127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter)
    live_services = board.app.state.services
    board.app.state.services = dataclasses.replace(live_services, client=dead)
    kept = await board.http.post(url, data={**form, "text": "第一份反映"})
    assert kept.status_code == 202, kept.text
    assert "将自动转交" in kept.text
    [waiting] = await board.intake(new_case_id)
    assert not waiting.delivered and (await board.state(handle)).objections == []

    # Temporal back: the next objection to the case brings the kept one along
    board.app.state.services = live_services
    sent = await board.http.post(url, data={**form, "text": "第二份反映"})
    assert sent.status_code == 200, sent.text
    assert all(i.delivered for i in await board.intake(new_case_id))
    filed = {o.objection_id for o in (await board.state(handle)).objections}
    assert filed == {i.receipt for i in await board.intake(new_case_id)} and len(filed) == 2
