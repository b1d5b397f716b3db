"""The step table (``workflows.steps``): every update of the case is in it, every door reads
it, and the workflow itself refuses a role it does not name, whoever sends the update."""

from __future__ import annotations

import typing
from datetime import date

import pytest
from temporalio import workflow
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.permissions import ALLOWED, TEAM_ACTIONS
from api.schemas import STEP_INPUTS
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import (
    CLERK,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    SECRETARY,
    TEAM,
    regular_case,
)
from workflows.appointment_case import AppointmentCaseWorkflow
from workflows.glossary import zh
from workflows.policy import STEP_NAMES
from workflows.steps import AWAITED_STEPS, CASE_STEPS, NOT_PERMITTED, role_refusal
from workflows.types import (
    Actor,
    CaseStage,
    InspectionCheckInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Role,
    WithdrawInput,
)

UPDATES = workflow._Definition.must_from_class(AppointmentCaseWorkflow).updates


def test_every_update_of_the_case_has_a_row_and_every_row_an_update() -> None:
    assert set(CASE_STEPS) == set(UPDATES)


@pytest.mark.parametrize("update", sorted(CASE_STEPS))
def test_each_row_names_the_input_its_update_takes(update: str) -> None:
    handler = UPDATES[update].fn
    hints = typing.get_type_hints(handler)
    assert hints["data"] is CASE_STEPS[update].input


def test_the_doors_read_the_table() -> None:
    assert {u: m for u, m in STEP_INPUTS.items()} == {u: s.input for u, s in CASE_STEPS.items()}
    for update, step in CASE_STEPS.items():
        assert ALLOWED[update] == step.roles - {Role.SYSTEM}, update
    assert {u for u, s in CASE_STEPS.items() if s.team_only} == TEAM_ACTIONS
    assert STEP_NAMES is AWAITED_STEPS


def test_every_row_is_offered_somewhere_and_taken_by_someone() -> None:
    for update, step in CASE_STEPS.items():
        assert step.roles and step.stages, update
        assert CaseStage.CLOSED not in step.stages or update == "retry_blocked", update


@pytest.mark.parametrize(
    ("update", "role", "refused"),
    [
        ("record_vote", Role.COMMITTEE_SECRETARY, False),
        ("record_vote", Role.CLERK, True),
        ("record_vote", Role.AUDITOR, True),
        ("withdraw", Role.AUDITOR, True),
        ("withdraw", Role.DEPARTMENT_HEAD, False),
        ("record_higher_approval", Role.CLERK, True),
        ("record_objection", Role.SYSTEM, False),  # the public board
        ("record_appointment", Role.SYSTEM, True),
        ("retry_blocked", Role.CLERK, True),
        ("retry_blocked", Role.ADMINISTRATOR, False),
    ],
)
def test_role_refusal_by_the_table(update: str, role: Role, refused: bool) -> None:
    why = role_refusal(update, Actor(name="某人", role=role), [])
    if refused:
        title = CASE_STEPS[update].title
        assert why is not None and why.startswith(f"「{title}」不由{zh(role)}办理（办理人：")
    else:
        assert why is None


def test_a_team_member_records_only_on_a_case_whose_team_names_them() -> None:
    member = Actor(name="李组长", role=Role.INSPECTION_TEAM)
    assert role_refusal("record_inspection_check", member, ["李组长", "周干事"]) is None
    why = role_refusal("record_inspection_check", member, ["王组长"])
    assert why == "「凡提四必核查」：李组长不是本案件考察组成员"
    # naming the team is the clerk's, whoever is on it
    assert role_refusal("record_inspection_team", member, ["李组长"]) is not None


def _refused_for_role(exc: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> str:
    cause = exc.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == NOT_PERMITTED, cause
    return cause.message


async def test_the_workflow_refuses_a_role_the_table_does_not_name(runner: CaseRunner) -> None:
    """Sent with a raw Temporal client, as the CLI or anyone who reaches Temporal could: the
    case's own validator refuses, and nothing enters its history."""
    h = await runner.start(regular_case("roles-1"))
    notice = InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE)
    for actor in (TEAM, SECRETARY, Actor(name="审计 钱", role=Role.AUDITOR)):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await runner.update(
                h, "record_investigation_notice", notice.model_copy(update={"actor": actor})
            )
        assert _refused_for_role(refused) == (
            f"「发布考察预告」不由{zh(actor.role)}办理（办理人：干部科工作人员）"
        )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(
            h, "withdraw", WithdrawInput(actor=Actor(name="审计 钱", role=Role.AUDITOR), reason="x")
        )
    _refused_for_role(refused)
    before = len(await runner.events("roles-1"))
    state = await runner.update(h, "record_investigation_notice", notice)
    assert state.stage is CaseStage.INSPECTION
    team = InspectionTeamInput(
        actor=CLERK, members=[TEAM.name, "周干事"], started_on=INSPECTION_START
    )
    await runner.update(h, "record_inspection_team", team)
    stranger = Actor(name="考察组 外人", role=Role.INSPECTION_TEAM)
    check = InspectionCheckInput(
        actor=stranger,
        person_id="p1",
        check="personnel_file",
        completed_on=date(2026, 9, 10),
        finding="无问题",
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(h, "record_inspection_check", check)
    assert _refused_for_role(refused) == "「凡提四必核查」：考察组 外人不是本案件考察组成员"
    state = await runner.update(
        h, "record_inspection_check", check.model_copy(update={"actor": TEAM})
    )
    assert state.stage is CaseStage.INSPECTION
    after = await runner.events("roles-1")
    assert not [e for e in after if e.actor_name in (stranger.name, "审计 钱")]
    assert len(after) > before
