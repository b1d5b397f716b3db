"""Replay saved histories of finished cases against today's workflow code.

A change to the workflow that is not guarded by ``workflow.patched`` makes the code issue
different commands than the recorded history, and replay fails here, before such a change
can reach running cases. Histories are made by ``tests/histories/make_case_histories.py``;
between them they take each side of every patch still live (``test_both_sides_...``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import WorkflowHistory

from settings import PROJECT_DIR, load_settings
from tests.histories.local_reads import local_activity_types
from tests.histories.replayer import service_replayer
from worker import worker_parts
from workflows.activity_refs import LOCAL_ACTIVITY_MARKER
from workflows.appointment_case import (
    CASE_BASELINE,
    CASE_BASELINE_2,
    CASE_BASELINE_3,
    CASE_BASELINE_4,
    CASE_BASELINE_5,
    CASE_BASELINES,
    CONTINUE_AS_NEW_PATCH,
    RECORD_BATCH_PATCH,
    SMALL_ANSWER_PATCH,
    SUSPENSION_DECISION_PATCH,
    UPSERT_CHANGES_PATCH,
    AppointmentCaseWorkflow,
)
from workflows.audit_checkpoint import MAIL_PATCH, AuditCheckpointWorkflow
from workflows.ids import LEGACY_PROBATION_WORKFLOW_PREFIX, PROBATION_WORKFLOW_PREFIX
from workflows.patches import PATCH_MARKER

HISTORIES = sorted((Path(__file__).parent / "histories").glob("case_*.json"))
EVERY_HISTORY = sorted((Path(__file__).parent / "histories").glob("*.json"))


def worker_workflows() -> list[type]:
    """The workflow classes the worker registers (``worker.worker_parts``); nothing connects."""
    settings = load_settings({"POLICY_FILE": str(PROJECT_DIR / "policy" / "default.yaml")})
    workflows, _ = worker_parts(settings, async_sessionmaker())
    return workflows


def test_every_workflow_the_worker_runs_has_a_saved_history() -> None:
    """A workflow added to the worker without a saved history to replay fails here."""
    saved = {
        WorkflowHistory.from_json(p.stem, p.read_text("utf-8"))
        .events[0]
        .workflow_execution_started_event_attributes.workflow_type.name
        for p in EVERY_HISTORY
    }
    registered = {w.__name__ for w in worker_workflows()}
    assert len(registered) >= 10
    assert registered <= saved, f"no saved history of: {sorted(registered - saved)}"


def test_there_are_saved_histories() -> None:
    assert len(HISTORIES) >= 4


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json("replayed-" + path.stem, path.read_text("utf-8"))
    replayer = service_replayer(AppointmentCaseWorkflow)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def test_an_unguarded_change_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: a history whose recorded commands differ is refused."""
    text = next(t for p in HISTORIES if '"record_event"' in (t := p.read_text("utf-8")))
    text = text.replace('"record_event"', '"record_something_else"', 1)
    history = WorkflowHistory.from_json("tampered", text)
    replayer = service_replayer(AppointmentCaseWorkflow)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None


def test_both_sides_of_the_unambiguous_probation_id_patch_are_replayed() -> None:
    """A case that started its appointee's probation before the patch (under the old form
    of ID) and one after it (under the current form)."""
    started = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for p in HISTORIES
        for e in WorkflowHistory.from_json(p.stem, p.read_text("utf-8")).events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]
    assert any(i.startswith(LEGACY_PROBATION_WORKFLOW_PREFIX) for i in started)
    assert any(i.startswith(PROBATION_WORKFLOW_PREFIX) for i in started)


def _patches(path: Path) -> set[str]:
    """The patches a saved history took (its version markers)."""
    history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
    taken = set()
    for e in history.events:
        marker = e.marker_recorded_event_attributes
        if e.HasField("marker_recorded_event_attributes") and marker.marker_name == PATCH_MARKER:
            for details in marker.details.values():
                taken |= {json.loads(payload.data)["id"] for payload in details.payloads}
    return taken


@pytest.mark.parametrize(
    "patch",
    [
        SMALL_ANSWER_PATCH,
        UPSERT_CHANGES_PATCH,
        CONTINUE_AS_NEW_PATCH,
        SUSPENSION_DECISION_PATCH,
        RECORD_BATCH_PATCH,
    ],
)
def test_both_sides_of_the_answer_and_upsert_patches_are_replayed(patch: str) -> None:
    """Histories from before the small answers (each update answered with the whole state,
    the search attributes upserted after every record) and from after them."""
    taken = {p.stem: patch in _patches(p) for p in HISTORIES}
    assert any(taken.values()) and not all(taken.values()), taken


def test_cases_begun_before_and_under_each_baseline_are_replayed() -> None:
    """A case begun under a baseline took its patches by that baseline's marker alone; the
    cases begun before the first took each patch by its own marker, or its old branch."""
    taken = {p.stem: _patches(p) for p in HISTORIES}
    under = {
        baseline: {name for name, patches in taken.items() if baseline in patches}
        for baseline, _ in CASE_BASELINES
    }
    assert all(under.values()), under
    for baseline, names in under.items():
        assert all(taken[name] == {baseline} for name in names), taken
    before = set().union(*(taken[name] for name in set(taken) - set().union(*under.values())))
    assert before and before < CASE_BASELINE, before - CASE_BASELINE  # only what it folds
    assert CASE_BASELINE < CASE_BASELINE_2 < CASE_BASELINE_3 < CASE_BASELINE_4 < CASE_BASELINE_5


def _work(path: Path) -> tuple[int, set[str]]:
    """How many local activities a saved history ran, and the activities it scheduled."""
    events = WorkflowHistory.from_json(path.stem, path.read_text("utf-8")).events
    local = sum(
        1 for e in events if e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
    )
    scheduled = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    return local, scheduled


def test_both_sides_of_the_local_reads_are_replayed() -> None:
    """Cases that read the policy and the calendar by activities and recorded their opening in
    two, and one that read them by local activities (markers) and recorded it in one."""
    local, scheduled = _work(HISTORIES[0].with_name("case_began_under_baseline_2.json"))
    assert local >= 2 and scheduled == {"record_events"}, (local, scheduled)
    local, scheduled = _work(HISTORIES[0].with_name("case_began_under_baseline.json"))
    assert local == 0 and {"load_policy", "schedule_step"} <= scheduled, (local, scheduled)


def _opening(path: Path) -> list[str]:
    """The kinds of the events a saved case sent with its first recording."""
    events = WorkflowHistory.from_json(path.stem, path.read_text("utf-8")).events
    first = next(e for e in events if e.HasField("activity_task_scheduled_event_attributes"))
    batch = json.loads(first.activity_task_scheduled_event_attributes.input.payloads[0].data)
    return [e["kind"] for e in batch["events"]]


def test_both_sides_of_the_first_deadline_with_the_opening_are_replayed() -> None:
    """A case that recorded its first step's deadline after its opening, and one that recorded
    it with the opening (patch "first-deadline-with-the-opening"), its scenario's dates long
    past: with its late marks too ("late-marks-with-the-deadline")."""
    opening = ["opened", "eligibility", "transition"]
    assert _opening(HISTORIES[0].with_name("case_began_under_baseline_2.json")) == opening
    with_it = _opening(HISTORIES[0].with_name("case_began_under_baseline_3.json"))
    assert with_it == [*opening, "deadline", "overdue", "escalation"]


def test_both_sides_of_the_opening_with_the_first_step_are_replayed() -> None:
    """A case whose notice, sent after the start, was recorded after its opening, and one whose
    notice, sent with the start, went on record with it (patch "opening-with-the-first-step")."""
    alone = _opening(HISTORIES[0].with_name("case_began_under_baseline_3.json"))
    assert "input" not in alone
    with_it = _opening(HISTORIES[0].with_name("case_began_under_baseline_4.json"))
    assert with_it == [*alone, "input", "transition"]


def _local_reads(path: Path) -> list[str]:
    """The activity types of the local activities a saved case ran, in order."""
    return local_activity_types(
        WorkflowHistory.from_json(path.stem, path.read_text("utf-8")).events
    )


def test_both_sides_of_the_notice_window_in_one_read_are_replayed() -> None:
    """A case that read its investigation notice's window by two reads of the calendar, and one
    that read it by one (patch "notice-window-in-one-read"); the same scenario, the same steps."""
    two = _local_reads(HISTORIES[0].with_name("case_began_under_baseline_4.json"))
    one = _local_reads(HISTORIES[0].with_name("case_began_under_baseline_5.json"))
    # the first workflow task's reads: the policy, the first deadline, the notice's window
    assert two[:4] == ["load_policy", "schedule_step", "working_days_end", "working_days_end"]
    assert one[:3] == ["load_policy", "schedule_step", "working_days_ends"]
    assert "working_days_ends" not in two and one.count("working_days_ends") == 1


def test_a_run_that_continued_as_new_and_a_run_from_a_carry_are_replayed() -> None:
    ends, carried = set(), set()
    for p in HISTORIES:
        events = WorkflowHistory.from_json(p.stem, p.read_text("utf-8")).events
        if events[-1].HasField("workflow_execution_continued_as_new_event_attributes"):
            ends.add(p.stem)
        started = events[0].workflow_execution_started_event_attributes
        if started.continued_execution_run_id:
            carried.add(p.stem)
    assert ends and carried, (ends, carried)


CHECKPOINT_HISTORIES = sorted((Path(__file__).parent / "histories").glob("checkpoint_*.json"))


@pytest.mark.parametrize("path", CHECKPOINT_HISTORIES, ids=[p.stem for p in CHECKPOINT_HISTORIES])
async def test_saved_checkpoint_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json("replayed-" + path.stem, path.read_text("utf-8"))
    replayer = service_replayer(AuditCheckpointWorkflow)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_both_sides_of_the_checkpoint_mail_patch_are_replayed() -> None:
    taken = {p.stem: MAIL_PATCH in _patches(p) for p in CHECKPOINT_HISTORIES}
    assert any(taken.values()) and not all(taken.values()), taken
