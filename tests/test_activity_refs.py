"""The typed references the workflows call activities by (``workflows.activity_refs``) match
the activities the worker registers: the same names, inputs and results, none missing on
either side; and the workflows started by name are the workflows registered under it."""

from __future__ import annotations

import inspect
from typing import Any, get_type_hints

import pytest
from temporalio import activity, workflow

from settings import load_settings
from store.db import make_engine, make_session_factory
from worker import worker_parts
from workflows import activity_refs

ENGINE = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/never-connected")


def registered() -> tuple[dict[str, Any], dict[str, type]]:
    workflows, activities = worker_parts(load_settings({}), make_session_factory(ENGINE))
    by_name: dict[str, Any] = {}
    for fn in activities:
        name = activity._Definition.must_from_callable(fn).name
        assert name is not None
        by_name[name] = fn
    names: dict[str, type] = {}
    for cls in workflows:
        defn = workflow._Definition.must_from_class(cls)
        assert defn.name is not None
        names[defn.name] = cls
    return by_name, names


def test_every_registered_activity_has_its_reference_and_no_more() -> None:
    activities, _ = registered()
    assert set(activities) == {ref.name for ref in activity_refs.ALL}


@pytest.mark.parametrize("ref", activity_refs.ALL, ids=lambda r: r.name)
def test_a_reference_has_its_activitys_input_and_result(
    ref: activity_refs.ActivityRef[Any, Any],
) -> None:
    activities, _ = registered()
    fn = activities[ref.name]
    hints = get_type_hints(fn)
    [parameter] = [p for p in inspect.signature(fn).parameters.values()]
    assert hints[parameter.name] is ref.input, (ref.name, hints)
    assert hints["return"] is ref.result, (ref.name, hints)


def test_the_workflows_started_by_name_are_registered_under_it() -> None:
    from gateway.cases import WORKFLOW_NAME
    from workflows.appointment_case import PROBATION_WORKFLOW_NAME

    _, workflows = registered()
    assert workflows[WORKFLOW_NAME].__name__ == "AppointmentCaseWorkflow"
    assert workflows[PROBATION_WORKFLOW_NAME].__name__ == "ProbationWorkflow"
