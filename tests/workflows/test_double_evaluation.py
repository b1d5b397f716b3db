"""A double evaluation on the time-skipping server with the real activities and the real
PostgreSQL: the edge tallies propose exactly the leaders the rule names, each gets a removal
case, and the standing committee's vote decides each."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError

from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner
from workflows.cadre_enums import RemovalStatus
from workflows.double_evaluation import DoubleEvaluationWorkflow
from workflows.double_evaluation_types import (
    DoubleEvaluationInput,
    EvaluationState,
    LeaderTallies,
    RemovalState,
    RemovalVoteInput,
    TallyInput,
)
from workflows.ids import double_evaluation_workflow_id, removal_case_workflow_id
from workflows.removal_case import RemovalCaseWorkflow
from workflows.rules.working_days import SHANGHAI
from workflows.types import Actor, Meeting, Role, VoteMethod

SECRETARY = Actor(name="常委会秘书 钱", role=Role.COMMITTEE_SECRETARY)
CLERK = Actor(name="王科员", role=Role.CLERK)


def votes(excellent: int, incompetent: int = 0) -> TallyInput:
    return TallyInput(
        voters=100,
        excellent=excellent,
        competent=100 - excellent - incompetent,
        incompetent=incompetent,
    )


def leader(pid: str, unified: TallyInput, own: TallyInput) -> LeaderTallies:
    return LeaderTallies(
        person_id=pid,
        name=f"干部{pid}",
        unit=f"县直单位{pid}",
        post="局长",
        unified=unified,
        own=own,
    )


SHORT = votes(30)  # short in the own unit's evaluation
# From the bottom by unified excellent rate: L9 10 %, L7 and L8 39 % (2nd), L6 40 % (4th),
# L4 and L5 45 % (tied at the 5th place: both in the last five), L1-L3 above.
EDGE = [
    leader("L1", votes(95), SHORT),
    leader("L2", votes(90), SHORT),
    leader("L3", votes(85), SHORT),
    leader("L4", votes(45, 25), SHORT),  # tied at the 5th, incompetent 25 %: proposed
    leader("L5", votes(45, 20), SHORT),  # tied at the 5th, exactly 20 %: not short
    leader("L6", votes(40), SHORT),  # exactly 40 %: not short
    leader("L7", votes(39), votes(39)),  # short in both: proposed
    leader("L8", votes(39), votes(40, 21)),  # own unit: incompetent 21 %: proposed
    leader("L9", votes(10), votes(40, 20)),  # own unit exactly at both limits: not proposed
]


async def today(runner: CaseRunner) -> date:
    return (await runner.env.get_current_time()).astimezone(SHANGHAI).date()


async def start(
    runner: CaseRunner, leaders: list[LeaderTallies]
) -> tuple[str, WorkflowHandle[Any, EvaluationState]]:
    evaluation_id = f"E{uuid.uuid4().hex[:8]}"
    handle = await runner.env.client.start_workflow(
        DoubleEvaluationWorkflow.run,
        DoubleEvaluationInput(
            evaluation_id=evaluation_id,
            title="2026 年度县直单位双重考核",
            held_on=await today(runner),
            leaders=leaders,
            opened_by=CLERK,
        ),
        id=double_evaluation_workflow_id(evaluation_id),
        task_queue=runner.task_queue,
    )
    runner.started.append(handle)  # type: ignore[arg-type]  # terminated if left running
    return evaluation_id, handle


async def removal(runner: CaseRunner, workflow_id: str) -> RemovalState:
    handle = runner.env.client.get_workflow_handle(workflow_id)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            state = await handle.query(RemovalCaseWorkflow.state)
            if state.schedule is not None:
                return state
        except Exception:
            if time.monotonic() > deadline:
                raise
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


def vote_input(
    day: date, agree: int, disagree: int, defer: int = 0, reason: str = "", actor: Actor = SECRETARY
) -> RemovalVoteInput:
    meeting = Meeting(
        meeting_id="CW-1", held_on=day, members=11, present=9, method=VoteMethod.SECRET_BALLOT
    )
    return RemovalVoteInput(
        actor=actor,
        meeting=meeting,
        agree=agree,
        disagree=disagree,
        defer=defer,
        deferred_reason=reason,
    )


async def test_the_edge_tallies_propose_exactly_the_leaders_the_rule_names(
    runner: CaseRunner,
) -> None:
    evaluation_id, evaluation = await start(runner, EDGE)
    ids = {p: removal_case_workflow_id(evaluation_id, p) for p in ("L4", "L7", "L8")}
    cases = {p: await removal(runner, i) for p, i in ids.items()}
    assert {p: c.status for p, c in cases.items()} == dict.fromkeys(
        ids, RemovalStatus.AWAITING_VOTE
    )
    # nobody else has a case
    for other in ("L1", "L2", "L3", "L5", "L6", "L9"):
        assert await runner.row(removal_case_workflow_id(evaluation_id, other)) is None

    day = await today(runner)
    handles = {p: runner.env.client.get_workflow_handle(i) for p, i in ids.items()}
    with pytest.raises(WorkflowUpdateFailedError) as refused:  # a clerk does not record votes
        await handles["L4"].execute_update(
            RemovalCaseWorkflow.record_vote, vote_input(day, 7, 2, actor=CLERK)
        )
    assert "只能由常委会秘书登记" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as refused:  # 9 present, 8 votes
        await handles["L4"].execute_update(RemovalCaseWorkflow.record_vote, vote_input(day, 6, 2))
    assert "票数合计 8 票" in str(refused.value.cause)

    passed = await handles["L4"].execute_update(
        RemovalCaseWorkflow.record_vote, vote_input(day, 7, 2)
    )
    assert passed.status is RemovalStatus.DECIDED
    failed = await handles["L7"].execute_update(
        RemovalCaseWorkflow.record_vote, vote_input(day, 5, 4)
    )
    assert failed.status is RemovalStatus.REJECTED  # 5 of 11 is not more than half
    deferred = await handles["L8"].execute_update(
        RemovalCaseWorkflow.record_vote, vote_input(day, 1, 1, 7, "需查清本单位测评的组织情况")
    )
    assert deferred.status is RemovalStatus.DEFERRED
    again = await handles["L8"].execute_update(
        RemovalCaseWorkflow.record_vote, vote_input(day, 6, 3)
    )
    assert again.status is RemovalStatus.DECIDED and len(again.votes) == 2

    end = await evaluation.result()
    assert sorted(r.person_id for r in end.ranking if r.proposed) == ["L4", "L7", "L8"]
    assert sorted(end.cases) == ["L4", "L7", "L8"]
    assert end.outcomes == {
        "L4": "：表决通过（免职）",
        "L7": "：表决未通过，不予降免职（免职）",
        "L8": "：表决通过（免职）",
    }
    by_id = {r.person_id: r for r in end.ranking}
    assert (by_id["L4"].place_from_bottom, by_id["L5"].place_from_bottom) == (5, 5)
    assert by_id["L6"].unified_excellent == "40%" and not by_id["L6"].proposed
    assert by_id["L5"].unified_incompetent == "20%" and not by_id["L5"].proposed

    kinds = [e.kind for e in await runner.events(double_evaluation_workflow_id(evaluation_id))]
    assert kinds[:2] == ["evaluation_opened", "evaluation_ranked"]
    assert kinds.count("evaluation_case_started") == 3 and kinds[-1] == "evaluation_finished"
    history = await runner.events(ids["L8"])
    assert [e.kind for e in history if e.kind == "removal_vote"] == ["removal_vote", "removal_vote"]
    assert history[0].kind == "removal_opened" and history[0].payload["person_id"] == "L8"


async def test_a_bad_tally_refuses_the_evaluation_and_records_nothing(runner: CaseRunner) -> None:
    bad = leader("B1", TallyInput(voters=50, excellent=30, competent=25), SHORT)
    evaluation_id, evaluation = await start(runner, [leader("A1", votes(10), SHORT), bad])
    with pytest.raises(WorkflowFailureError) as failed:
        await evaluation.result()
    assert "票数合计 55 票" in str(failed.value.cause) and "多于参加测评人数 50 人" in str(
        failed.value.cause
    )
    assert await runner.events(double_evaluation_workflow_id(evaluation_id)) == []
