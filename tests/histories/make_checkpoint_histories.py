"""Regenerate the saved history of an audit checkpoint run (run by hand).

    python -m tests.histories.make_checkpoint_histories [NAME]

Signs one checkpoint over an empty log on a dev server with a throwaway database and saves
the run's history as ``NAME.json`` (default ``checkpoint_mailed``) beside this file;
``tests/test_replay.py`` replays every ``checkpoint_*.json``. Run from an older checkout
(with this file copied in) to save a history of the code before a patch.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from audit.keys import write_keypair
from settings import PROJECT_DIR, load_settings
from starter.temporal_binaries import find_temporal_cli
from store.db import make_engine, make_session_factory, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.conftest import throwaway_database_name
from tests.histories.make_case_histories import SERVER_URL
from worker import build_worker
from workflows.audit_checkpoint import AuditCheckpointWorkflow, CheckpointRequest

HERE = Path(__file__).resolve().parent


async def main(name: str) -> None:
    database = throwaway_database_name("histories")
    await ensure_database(SERVER_URL, database)
    url = with_database(SERVER_URL, database)
    engine = make_engine(url)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=pydantic_data_converter,
        ui=False,
    )
    try:
        await upgrade_to_head(url)
        folder = Path(tempfile.mkdtemp())
        key = folder / "audit.pem"
        write_keypair(key)
        settings = load_settings(
            {
                "TASK_QUEUE": f"audit-{uuid.uuid4().hex[:8]}",
                "POLICY_FILE": str(PROJECT_DIR / "policy" / "default.yaml"),
                "AUDIT_SIGNING_KEY": str(key),
                "AUDIT_EXPORT_DIR": str(folder / "copies"),
                "DATABASE_URL": url,
            }
        )
        async with build_worker(env.client, settings, make_session_factory(engine)):
            handle = await env.client.start_workflow(
                AuditCheckpointWorkflow.run,
                CheckpointRequest(reason="saved history"),
                id=f"checkpoint-{uuid.uuid4().hex[:6]}",
                task_queue=settings.task_queue,
            )
            await handle.result()
            history = await handle.fetch_history()
        (HERE / f"{name}.json").write_text(history.to_json(), "utf-8")
        print(f"saved {name}.json ({len(history.events)} events)")
    finally:
        await env.shutdown()
        await engine.dispose()
        await drop_database(SERVER_URL, database)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "checkpoint_mailed"))
    sys.stdout.flush()
    os._exit(0)  # see TOOLCHAIN: the SDK can abort during interpreter teardown
