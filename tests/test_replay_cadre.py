"""Replay the saved histories of the cadre-management workflows against today's code.

The capability test's retests run for three months and more, a removal case waits for the
standing committee, a rotation batch for documents and arrivals: a deploy always meets
running ones. A change to their commands that is not guarded by ``workflow.patched`` makes
the code issue other commands than the recorded history, and replay fails here. The
histories (parents and the children they started) are made by
``tests/histories/make_cadre_histories.py`` and replayed with the workflow classes the
worker registers.
"""

from __future__ import annotations

import ast
import inspect
import json
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.workflow import NondeterminismError

from tests.histories.replayer import service_replayer
from tests.test_replay import _patches, worker_workflows
from workflows import (
    appointment_case,
    capability_campaign,
    capability_retest,
    deadlines,
    double_evaluation,
    removal_case,
    rotation,
    rotation_batch,
)
from workflows.deadlines import NO_ALARM_WHEN_DONE_PATCH

HISTORIES = sorted((Path(__file__).parent / "histories").glob("cadre_*.json"))
CADRE_MODULES = [
    capability_campaign,
    capability_retest,
    double_evaluation,
    removal_case,
    rotation,
    rotation_batch,
]


async def replay(name: str, text: str) -> Exception | None:
    history = WorkflowHistory.from_json(f"replayed-{name}", text)
    replayer = service_replayer(*worker_workflows())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure


def workflow_type(path: Path) -> str:
    history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def test_each_cadre_workflow_and_its_main_paths_have_a_saved_history() -> None:
    by_type: dict[str, set[str]] = {}
    for p in HISTORIES:
        by_type.setdefault(workflow_type(p), set()).add(p.stem)
    assert by_type == {
        "CapabilityCampaignWorkflow": {
            "cadre_capability_fail_retest_handling",
            "cadre_capability_retest_pass",
            "cadre_capability_refused",
        },
        "CapabilityRetestWorkflow": {
            "cadre_capability_fail_retest_handling_retest",
            "cadre_capability_retest_pass_retest",
        },
        "DoubleEvaluationWorkflow": {
            "cadre_double_evaluation",
            "cadre_double_evaluation_refused",
        },
        "RemovalCaseWorkflow": {
            "cadre_removal_vote",
            "cadre_removal_vote_rejected",
            "cadre_removal_deferred_then_vote",
        },
        "RotationScanWorkflow": {"cadre_rotation_scan"},
        "RotationBatchWorkflow": {"cadre_rotation_batch"},
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_cadre_history_replays(path: Path) -> None:
    failure = await replay(path.stem, path.read_text("utf-8"))
    assert failure is None, f"{path.name}: {failure}"


def swap_first_two_activities(text: str) -> str:
    """The history as the code would have made it with its first two activities of
    different types, scheduled in one workflow task, called the other way round."""
    events: list[dict[str, Any]] = json.loads(text)["events"]
    key = "activityTaskScheduledEventAttributes"
    for first, second in pairwise(events):
        if (
            key in first
            and key in second
            and first[key]["activityType"] != second[key]["activityType"]
        ):
            break
    else:
        raise AssertionError("no workflow task scheduled two different activities")
    first[key], second[key] = second[key], first[key]
    # activity ids count the calls in the order made
    first[key]["activityId"], second[key]["activityId"] = (
        second[key]["activityId"],
        first[key]["activityId"],
    )
    ids = {first["eventId"]: second["eventId"], second["eventId"]: first["eventId"]}
    for e in events:  # what followed still belongs to the activity it was about
        for attributes in e.values():
            if isinstance(attributes, dict) and attributes.get("scheduledEventId") in ids:
                attributes["scheduledEventId"] = ids[attributes["scheduledEventId"]]
    return json.dumps({"events": events})


@pytest.mark.parametrize(
    "stem", ["cadre_removal_vote", "cadre_capability_retest_pass_retest", "cadre_rotation_batch"]
)
async def test_commands_in_another_order_are_caught(stem: str) -> None:
    """The check itself can fail: the same commands in another order are refused."""
    text = (Path(__file__).parent / "histories" / f"{stem}.json").read_text("utf-8")
    swapped = swap_first_two_activities(text)
    assert swapped != text
    failure = await replay(stem, swapped)
    assert isinstance(failure, NondeterminismError), failure


def live_patches(module: ModuleType) -> set[str]:
    """The patch ids a workflow module branches on (``workflow.patched(SOME_PATCH)``, or
    through the run's baseline, ``self._patched(SOME_PATCH)``); a call that passes on an id
    it was given (a parameter's lower-case name) names none."""
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Attribute) and node.func.attr in ("patched", "_patched"))
            or (isinstance(node.func, ast.Name) and node.func.id == "patched")  # one passed in
        ):
            (argument,) = node.args
            assert isinstance(argument, ast.Name), (
                f"{module.__name__}:{node.lineno}: name the patch id by a module constant"
            )
            if argument.id.isupper():
                found.add(getattr(module, argument.id))
    return found


def test_live_patches_are_found() -> None:
    """The scan below sees the patches of a module that has some."""
    declared = {v for k, v in vars(appointment_case).items() if k.endswith("_PATCH")}
    assert len(declared) >= 5
    # the baselines are asked by ``workflows.patches``; the deadlines' patch by keep_deadline
    asked_elsewhere = {marker for marker, _ in appointment_case.CASE_BASELINES} | {
        NO_ALARM_WHEN_DONE_PATCH
    }
    assert live_patches(appointment_case) | asked_elsewhere == declared
    assert live_patches(deadlines) == {NO_ALARM_WHEN_DONE_PATCH}


def test_both_sides_of_every_live_cadre_patch_are_replayed() -> None:
    """A patch added to a cadre workflow needs a saved history from before it (kept) and
    one from after it (regenerated), as the appointment case's patches have."""
    taken = {p.stem: _patches(p) for p in HISTORIES}
    for module in CADRE_MODULES:
        for patch in live_patches(module):
            sides = {stem: patch in found for stem, found in taken.items()}
            assert any(sides.values()) and not all(sides.values()), (module.__name__, patch)
