"""Replay the saved probation (and digest) histories against today's workflow code.

A probation runs for a year, so a deploy always meets running ones. A change to the
workflow that is not guarded by ``workflow.patched`` issues different commands than the
recorded history, and replay fails here before it can reach them. The histories are made
by ``tests/histories/make_probation_histories.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.digest import DigestWorkflow
from workflows.probation import ProbationWorkflow
from workflows.probation_types import ProbationInput

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("probation_*.json"))


async def workflow_id_of(text: str) -> str:
    """The ID the probation ran under (it checks its own ID), from its recorded input."""
    history = WorkflowHistory.from_json("unknown", text)
    started = history.events[0].workflow_execution_started_event_attributes
    if started.workflow_type.name != ProbationWorkflow.__name__:
        return f"replayed-{started.workflow_type.name}"
    (input,) = await pydantic_data_converter.decode(started.input.payloads, [ProbationInput])
    assert isinstance(input, ProbationInput)
    return input.workflow_id


async def replay(text: str) -> Exception | None:
    history = WorkflowHistory.from_json(await workflow_id_of(text), text)
    replayer = Replayer(
        workflows=[ProbationWorkflow, DigestWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure


def test_there_are_saved_histories() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"probation_full_year", "probation_overdue_ladder", "probation_ended_early"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    failure = await replay(path.read_text("utf-8"))
    assert failure is None, f"{path.name}: {failure}"


async def test_an_unguarded_change_is_caught() -> None:
    """The check itself can fail: a history whose recorded commands differ is refused."""
    path = next(p for p in HISTORIES if p.stem == "probation_full_year")
    text = path.read_text("utf-8").replace('"record_probation_event"', '"record_something_else"', 1)
    assert await replay(text) is not None
