"""Replay the saved probation (and digest) histories against today's workflow code.

A probation runs for a year, so a deploy always meets running ones. A change to the
workflow that is not guarded by ``workflow.patched`` issues different commands than the
recorded history, and replay fails here before it can reach them. The histories are made
by ``tests/histories/make_probation_histories.py``; each replays under the ID it ran under,
the old form (``probation-<case>-<person>``) or the current one (``workflows.ids``), both
of which a probation accepts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from gateway.client import DATA_CONVERTER
from tests.histories.replayer import service_replayer
from workflows.digest import DigestWorkflow
from workflows.ids import LEGACY_PROBATION_WORKFLOW_PREFIX, PROBATION_WORKFLOW_PREFIX
from workflows.probation import ProbationWorkflow
from workflows.probation_types import ProbationInput
from workflows.types import PolicyRequest

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("probation_*.json"))


async def workflow_id_of(text: str) -> str:
    """The ID the probation ran under, as it recorded it: the policy it asked for first is
    named by it (or, after a continue-as-new, the state it carried)."""
    history = WorkflowHistory.from_json("unknown", text)
    started = history.events[0].workflow_execution_started_event_attributes
    if started.workflow_type.name != ProbationWorkflow.__name__:
        return f"replayed-{started.workflow_type.name}"
    (input,) = await DATA_CONVERTER.decode(started.input.payloads, [ProbationInput])
    assert isinstance(input, ProbationInput)
    if input.carry is not None:
        return input.carry.state.probation_id
    for event in history.events:
        scheduled = event.activity_task_scheduled_event_attributes
        if scheduled.activity_type.name == "load_policy":
            (request,) = await DATA_CONVERTER.decode(scheduled.input.payloads, [PolicyRequest])
            assert isinstance(request, PolicyRequest)
            return request.case_id
    raise AssertionError("the probation never asked for its policy")


async def replay(text: str, workflow_id: str | None = None) -> Exception | None:
    history = WorkflowHistory.from_json(workflow_id or await workflow_id_of(text), text)
    replayer = service_replayer(ProbationWorkflow, DigestWorkflow)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure


def test_there_are_saved_histories() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"probation_full_year", "probation_overdue_ladder", "probation_ended_early"} <= names


async def test_the_histories_ran_under_both_forms_of_id() -> None:
    ids = [await workflow_id_of(p.read_text("utf-8")) for p in HISTORIES]
    assert any(i.startswith(LEGACY_PROBATION_WORKFLOW_PREFIX) for i in ids)
    assert any(i.startswith(PROBATION_WORKFLOW_PREFIX) for i in ids)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    failure = await replay(path.read_text("utf-8"))
    assert failure is None, f"{path.name}: {failure}"


async def test_an_unguarded_change_is_caught() -> None:
    """The check itself can fail: a history whose recorded commands differ is refused."""
    path = next(p for p in HISTORIES if p.stem == "probation_full_year")
    text = path.read_text("utf-8").replace('"record_probation_event"', '"record_something_else"', 1)
    assert await replay(text) is not None


async def test_a_probation_runs_only_under_an_id_of_its_own() -> None:
    """Under an ID that is not its pair's, in either form, the probation refuses to open."""
    path = next(p for p in HISTORIES if p.stem == "probation_full_year")
    assert await replay(path.read_text("utf-8"), "probation:SOMEONE:ELSE") is not None
