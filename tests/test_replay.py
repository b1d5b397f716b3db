"""Replay saved histories of finished cases against today's workflow code.

A change to the workflow that is not guarded by ``workflow.patched`` makes the code issue
different commands than the recorded history, and replay fails here, before such a change
can reach running cases. Histories are made by ``tests/histories/make_case_histories.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.appointment_case import AppointmentCaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("case_*.json"))


def test_there_are_saved_histories() -> None:
    assert len(HISTORIES) >= 4


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json("replayed-" + path.stem, path.read_text("utf-8"))
    replayer = Replayer(workflows=[AppointmentCaseWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def test_an_unguarded_change_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: a history whose recorded commands differ is refused."""
    text = HISTORIES[0].read_text("utf-8").replace('"record_event"', '"record_something_else"', 1)
    history = WorkflowHistory.from_json("tampered", text)
    replayer = Replayer(workflows=[AppointmentCaseWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
