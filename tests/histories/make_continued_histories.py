"""Regenerate the saved histories of a case that continued as new (run by hand).

    python -m tests.histories.make_continued_histories

Runs the regular appointment scenario on a dev server told to suggest continue-as-new after
a few dozen events (the time-skipping server never suggests it), and saves the first run
(it ends by continuing as new) and the last (it began from the carry and ended the case).
``tests/test_replay.py`` replays both.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from starter.temporal_binaries import find_temporal_cli
from store.db import make_engine, make_session_factory, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.conftest import free_port, throwaway_database_name
from tests.histories.make_case_histories import SERVER_URL
from tests.workflows import test_paths
from tests.workflows.conftest import case_runner
from workflows.ids import case_workflow_id
from workflows.search_attributes import SEARCH_ATTRIBUTES

HERE = Path(__file__).resolve().parent
SUGGEST_AFTER_EVENTS = 40
CASE_ID = "reg-1"


async def main() -> None:
    name = throwaway_database_name("histories")
    await ensure_database(SERVER_URL, name)
    url = with_database(SERVER_URL, name)
    engine = make_engine(url)
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
        await upgrade_to_head(url)
        async with case_runner(env, make_session_factory(engine)) as runner:
            await test_paths.test_regular_appointment_to_appointed(runner)
        workflow_id = case_workflow_id(CASE_ID)
        runs = [r async for r in env.client.list_workflows(f'WorkflowId = "{workflow_id}"')]
        runs.sort(key=lambda r: r.start_time)
        first, last = runs[0], runs[-1]
        for saved, run in (("case_continued_first_run", first), ("case_continued_last_run", last)):
            handle = env.client.get_workflow_handle(workflow_id, run_id=run.run_id)
            history = await handle.fetch_history()
            (HERE / f"{saved}.json").write_text(history.to_json(), "utf-8")
            print(f"saved {saved}.json ({len(history.events)} events, {len(runs)} runs)")
    finally:
        await env.shutdown()
        await engine.dispose()
        await drop_database(SERVER_URL, name)


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # see TOOLCHAIN: the SDK can abort during interpreter teardown
