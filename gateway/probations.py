"""Finding the workflow of a probation from its business key (case, person), for every front
end, probations started under the old form of ID included (``workflows.ids``).

A probation runs under ``probation_workflow_id(case, person)``; one started before IDs were
made unambiguous runs, for the rest of its year, under ``legacy_probation_workflow_id``,
which two pairs can share (case ``A-B``/person ``1`` and case ``A``/person ``B-1``). So the
old ID is used only when Temporal has no workflow under the new one, and only when the
probation found under the old one was started for this very pair: its recorded input (the
first event of its run) names its case and person. Telling the pairs apart by the ID's text
alone would not do: ``C-1``/``P7`` is as common a pair as any, and its old ID is ambiguous.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from gateway.cases import connect_problem
from gateway.errors import Unreachable
from workflows.ids import legacy_probation_workflow_id, probation_workflow_id
from workflows.probation_types import ProbationInput


async def find_probation_id(client: Client, case_id: str, person_id: str) -> str:
    """The ID the probation of ``person_id`` in ``case_id`` runs (or ran) under: the current
    one, unless Temporal has none under it and the one under the old ID is this pair's. With
    neither, the current ID (a call to it then says "not found"). ``Unreachable`` when
    Temporal does not answer."""
    current = probation_workflow_id(case_id, person_id)
    try:
        if await _exists(client, current):
            return current
        legacy = legacy_probation_workflow_id(case_id, person_id)
        if await _started_for(client, legacy, case_id, person_id):
            return legacy
    except RPCError as exc:
        raise Unreachable(exc.message) from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    return current


async def _exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def _started_for(client: Client, workflow_id: str, case_id: str, person_id: str) -> bool:
    """Whether the newest run under ``workflow_id`` is a probation of (case, person)."""
    events = client.get_workflow_handle(workflow_id).fetch_history_events(page_size=1)
    try:
        first = await anext(events, None)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    if first is None or first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return False
    started = first.workflow_execution_started_event_attributes
    if started.workflow_type.name != "ProbationWorkflow":
        return False
    try:
        [recorded] = await client.data_converter.decode(started.input.payloads, [ProbationInput])
    except ValueError:  # not a probation's input as this code reads one
        return False
    assert isinstance(recorded, ProbationInput)
    return (recorded.case_id, recorded.person_id) == (case_id, person_id)
