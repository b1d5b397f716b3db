"""A case on the real Temporal dev server, its state in a SQLite file, run by a worker with
the service's encrypting converter: no personal datum of it (a candidate's name, an
objection's summary, a verification's finding) can be read in Temporal's database file nor
in what Temporal's frontend answers a client without the keys, while the service's own
client reads everything, its history replays, and the codec endpoint decodes it for an
auditor and for nobody else."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import QueryWorkflowRequest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from api.app import create_app
from gateway.client import DATA_CONVERTER, data_converter
from gateway.payload_codec import is_encrypted
from gateway.payload_keys import write_key_file
from settings import Settings, load_settings
from starter.temporal_binaries import find_temporal_cli
from tests.api.conftest import client_for, make_account
from tests.conftest import free_port
from tests.workflows.conftest import case_runner
from tests.workflows.scenarios import (
    CLERK,
    agree,
    appointment,
    inspect,
    notice,
    person,
    regular_case,
    vote,
)
from workflows.appointment_case import AppointmentCaseWorkflow
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.types import (
    CaseStatus,
    ObjectionInput,
    ObjectionOutcome,
    ObjectionVerdictInput,
    Role,
)

pytestmark = pytest.mark.devserver

CANDIDATE = "隐私测试丙"
RUNNER_UP = "隐私测试丁"
OBJECTION = "举报人钱隐私电话13912345678反映其作风问题"
FINDING = "经核查隐私结论无问题"
PERSONAL = (CANDIDATE, RUNNER_UP, OBJECTION, FINDING, "13912345678")
UNIT = "县环保局"  # a search attribute: indexed by Temporal, so plain, and no personal datum


def spellings(text: str) -> list[bytes]:
    """The datum as JSON may carry it: UTF-8, or escaped to ASCII."""
    return [text.encode(), json.dumps(text).strip('"').encode()]


def found_in(data: bytes, text: str) -> bool:
    return any(s in data for s in spellings(text))


def readable(data: bytes) -> list[str]:
    return [text for text in PERSONAL if found_in(data, text)]


async def test_a_case_leaves_no_personal_datum_readable_in_temporal(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    key = tmp_path / "payload.key"
    write_key_file(key)
    settings = load_settings({"PAYLOAD_KEY_FILES": str(key)})
    converter = data_converter(settings)
    db_file = tmp_path / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        port=free_port(),
        dev_server_database_filename=str(db_file),
    )
    try:
        async with case_runner(env, session_factory) as runner:
            case_id = f"PRIV-{uuid.uuid4().hex[:8]}"
            h = await runner.start(
                regular_case(case_id, [person("p1", CANDIDATE), person("p2", RUNNER_UP)])
            )
            await inspect(runner, h, ["p1", "p2"], ["p1"])
            await runner.update(h, "record_vote", vote([agree("p1")]))
            await runner.update(h, "record_public_notice", notice())
            # a refusal's sentence travels encrypted too, and the service's client reads it
            late = ObjectionInput(
                actor=CLERK,
                objection_id="O0",
                person_id="p1",
                received_on=date(2026, 10, 12),
                summary=OBJECTION,
            )
            with pytest.raises(WorkflowUpdateFailedError) as refusal:
                await runner.update(h, "record_objection", late)
            cause = refusal.value.cause
            assert isinstance(cause, ApplicationError)
            assert cause.message and cause.message != "Encoded failure"
            objection = ObjectionInput(
                actor=CLERK,
                objection_id="O1",
                person_id="p1",
                received_on=date(2026, 10, 8),
                summary=OBJECTION,
            )
            await runner.update(h, "record_objection", objection)
            verdict = ObjectionVerdictInput(
                actor=CLERK,
                objection_id="O1",
                verified_on=date(2026, 10, 10),
                outcome=ObjectionOutcome.NO_PROBLEM,
                finding=FINDING,
            )
            await runner.update(h, "record_objection_verdict", verdict)
            state = await runner.update(h, "record_appointment", appointment("p1"))

            # the service's own client reads everything, and the history replays with it
            assert state.status is CaseStatus.APPOINTED
            assert [c.name for c in state.candidates] == [CANDIDATE, RUNNER_UP]
            history = await h.fetch_history()
            replayer = Replayer(workflows=[AppointmentCaseWorkflow], data_converter=converter)
            await replayer.replay_workflow(history)
            # ... and a replay without the keys says what it lacks
            plain_replayer = Replayer(
                workflows=[AppointmentCaseWorkflow], data_converter=DATA_CONVERTER
            )
            failed = await plain_replayer.replay_workflow(history, raise_on_replay_failure=False)
            assert failed.replay_failure is not None
            assert "PAYLOAD_KEY_FILES" in str(failed.replay_failure)

            # what the frontend answers a client without the keys: ciphertext
            raw = await Client.connect(env.client.service_client.config.target_host)
            workflows = [w async for w in raw.list_workflows(f'TaskQueue = "{runner.task_queue}"')]
            assert len(workflows) >= 2  # the case and its appointee's probation
            for found in workflows:
                events = await raw.get_workflow_handle(found.id).fetch_history()
                answered = b"".join(e.SerializeToString() for e in events.events)
                assert readable(answered) == [], found.id
                description = await raw.get_workflow_handle(found.id).describe()
                assert readable(description.raw_description.SerializeToString()) == []
            case_history = await raw.get_workflow_handle(h.id).fetch_history()
            blob = b"".join(e.SerializeToString() for e in case_history.events)
            assert found_in(blob, UNIT)  # the history itself is not compressed: greppable
            query = await raw.workflow_service.query_workflow(
                QueryWorkflowRequest(
                    namespace=env.client.namespace,
                    execution=WorkflowExecution(workflow_id=h.id),
                    query=WorkflowQuery(query_type="state"),
                )
            )
            answer = list(query.query_result.payloads)
            assert answer and all(is_encrypted(p) for p in answer)
            assert readable(query.SerializeToString()) == []

            # the codec endpoint decodes it for an auditor, and for a clerk not
            started = case_history.events[0].workflow_execution_started_event_attributes
            sealed: list[Payload] = list(started.input.payloads)
            assert sealed and all(is_encrypted(p) for p in sealed)
            await codec_endpoint_decodes_for_auditors_only(env, settings, session_factory, sealed)

        # Temporal's database file and its write-ahead log
        files = [p for p in tmp_path.iterdir() if p.name.startswith("temporal.db")]
        assert db_file in files
        stored = b"".join(p.read_bytes() for p in files)
        assert found_in(stored, UNIT)  # the file is greppable: search attributes are there
        assert h.id.encode() in stored
        assert readable(stored) == [], [p.name for p in files]
    finally:
        await env.shutdown()


async def codec_endpoint_decodes_for_auditors_only(
    env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    sealed: list[Payload],
) -> None:
    body = json_format.MessageToDict(Payloads(payloads=sealed))
    auditor = await make_account(sessions, Role.AUDITOR)
    clerk = await make_account(sessions, Role.CLERK)
    async with client_for(create_app(settings, env.client, sessions)) as http:
        refused = await http.post("/codec/decode", json=body, headers=clerk.headers)
        assert refused.status_code == 403
        assert readable(refused.content) == []
        nobody = await http.post("/codec/decode", json=body)
        assert nobody.status_code == 401
        answer = await http.post("/codec/decode", json=body, headers=auditor.headers)
        assert answer.status_code == 200, answer.text
    decoded = json_format.ParseDict(answer.json(), Payloads()).payloads
    assert not any(is_encrypted(p) for p in decoded)
    assert CANDIDATE in b"".join(p.data for p in decoded).decode()
