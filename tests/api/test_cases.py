"""The API on the real time-skipping server, a real worker and PostgreSQL: a regular case
started, driven through inspection to the vote by the proper roles, refusals and errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import load_settings
from tests.api.conftest import Account, client_for
from tests.workflows.conftest import CaseRunner, case_runner
from tests.workflows.scenarios import (
    INSPECTION_DONE,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
    regular_case,
)
from workflows.ids import case_workflow_id
from workflows.types import FOUR_MUSTS, CaseStage, Role

QUORUM_REFUSAL = "quorum not met: 7 of 11 present, at least 8 required"


@pytest.fixture
async def live(
    time_env: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[httpx.AsyncClient, CaseRunner]]:
    async with case_runner(time_env, session_factory) as runner:
        settings = load_settings({"TASK_QUEUE": runner.task_queue})
        app = create_app(settings, time_env.client, session_factory)
        async with client_for(app) as http:
            yield http, runner


def iso(day: date) -> str:
    return day.isoformat()


def meeting(present: int) -> dict[str, Any]:
    return {
        "meeting_id": "M1",
        "held_on": iso(MEETING_DAY),
        "members": 11,
        "present": present,
        "method": "secret_ballot",
    }


async def step(
    http: httpx.AsyncClient, who: Account, case_id: str, update: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(f"/cases/{case_id}/steps/{update}", json=body, headers=who.headers)
    assert response.status_code == 200, (update, response.status_code, response.text)
    state: dict[str, Any] = response.json()
    return state


async def start(
    http: httpx.AsyncClient, runner: CaseRunner, clerk: Account, case_id: str
) -> dict[str, Any]:
    """Start a case through the API; the runner terminates it at the end of the test."""
    runner.started.append(runner.env.client.get_workflow_handle(case_workflow_id(case_id)))
    body = regular_case(case_id).model_dump(mode="json", exclude={"opened_by"})
    response = await http.post("/cases", json=body, headers=clerk.headers)
    assert response.status_code == 201, response.text
    started: dict[str, Any] = response.json()
    return started


async def to_the_vote(
    http: httpx.AsyncClient, accounts: dict[Role, Account], case_id: str
) -> dict[str, Any]:
    clerk, team = accounts[Role.CLERK], accounts[Role.INSPECTION_TEAM]
    await step(
        http,
        clerk,
        case_id,
        "record_investigation_notice",
        {"published_on": iso(INVESTIGATION_NOTICE)},
    )
    await step(
        http,
        team,
        case_id,
        "record_inspection_team",
        {"members": ["李组长", "周干事"], "started_on": iso(INSPECTION_START)},
    )
    for pid in ("p1", "p2"):
        for check in FOUR_MUSTS:
            await step(
                http,
                team,
                case_id,
                "record_inspection_check",
                {
                    "person_id": pid,
                    "check": check.value,
                    "completed_on": "2026-09-10",
                    "finding": "无问题",
                },
            )
        await step(
            http,
            team,
            case_id,
            "record_democratic_evaluation",
            {
                "person_id": pid,
                "held_on": "2026-09-09",
                "participants": 40,
                "excellent": 30,
                "competent": 8,
                "basically_competent": 2,
                "incompetent": 0,
            },
        )
        await step(
            http,
            team,
            case_id,
            "record_inspection_report",
            {"person_id": pid, "submitted_on": iso(INSPECTION_DONE), "summary": "德才表现良好"},
        )
    return await step(
        http,
        clerk,
        case_id,
        "conclude_inspection",
        {"concluded_on": "2026-09-16", "proposed": ["p1"]},
    )


async def settled(runner: CaseRunner, case_id: str) -> int:
    """The number of recorded events once the case has set its deadline and written all."""
    for _ in range(100):
        state = await runner.state(runner.started[0])
        events = await runner.events(case_id)
        if state.step and state.step.deadline_at and len(events) == state.events_recorded:
            return len(events)
        await asyncio.sleep(0.1)
    raise AssertionError(f"case {case_id} did not settle: {state.step}")


async def test_a_regular_case_through_inspection_to_the_vote(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account], new_case_id: str
) -> None:
    http, runner = live
    clerk, secretary = accounts[Role.CLERK], accounts[Role.COMMITTEE_SECRETARY]

    started = await start(http, runner, clerk, new_case_id)
    assert started["state"]["stage"] == CaseStage.INVESTIGATION_NOTICE
    again = await http.post(
        "/cases",
        json=regular_case(new_case_id).model_dump(mode="json", exclude={"opened_by"}),
        headers=clerk.headers,
    )
    assert again.status_code == 409 and "already exists" in again.json()["detail"]

    state = await to_the_vote(http, accounts, new_case_id)
    assert state["stage"] == CaseStage.VOTE

    # A refused vote: the rule's sentence and source, and nothing recorded.
    before = await settled(runner, new_case_id)
    refused = await http.post(
        f"/cases/{new_case_id}/steps/record_vote",
        json={"meeting": meeting(7), "items": [{"person_id": "p1", "agree": 6, "disagree": 1}]},
        headers=secretary.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == QUORUM_REFUSAL
    assert refused.json()["rule"]
    # Malformed: a tally below zero, and an actor the caller tries to give itself.
    for body in (
        {"meeting": meeting(9), "items": [{"person_id": "p1", "agree": -1}]},
        {
            "meeting": meeting(9),
            "items": [{"person_id": "p1", "agree": 8, "disagree": 1}],
            "actor": {"name": "部长", "role": "department_head"},
        },
        {"meeting": meeting(9)},
    ):
        malformed = await http.post(
            f"/cases/{new_case_id}/steps/record_vote", json=body, headers=secretary.headers
        )
        assert malformed.status_code == 422, body
    assert len(await runner.events(new_case_id)) == before
    assert (await runner.state(runner.started[0])).stage is CaseStage.VOTE

    # The vote by the committee secretary, recorded under the secretary's account.
    state = await step(
        http,
        secretary,
        new_case_id,
        "record_vote",
        {"meeting": meeting(9), "items": [{"person_id": "p1", "agree": 8, "disagree": 1}]},
    )
    assert state["stage"] == CaseStage.PUBLIC_NOTICE

    detail = await http.get(f"/cases/{new_case_id}", headers=accounts[Role.AUDITOR].headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["state"]["stage"] == CaseStage.PUBLIC_NOTICE
    assert body["listing"]["case_id"] == new_case_id
    actors = {(e["actor_name"], e["actor_role"]) for e in body["history"]}
    for role in (Role.CLERK, Role.INSPECTION_TEAM, Role.COMMITTEE_SECRETARY):
        assert (accounts[role].name, role.value) in actors
    opened = body["history"][0]
    assert (opened["actor_name"], opened["actor_role"]) == (clerk.name, "clerk")

    timeline = await http.get(
        f"/cases/{new_case_id}/timeline", headers=accounts[Role.AUDITOR].headers
    )
    assert timeline.status_code == 200
    # the case may record its next deadline between the two reads: history is a prefix
    history_seqs = [e["seq"] for e in body["history"]]
    timeline_seqs = [e["seq"] for e in timeline.json()]
    assert timeline_seqs[: len(history_seqs)] == history_seqs
    assert timeline_seqs == list(range(1, len(timeline_seqs) + 1))

    listed = await http.get(
        "/cases", params={"stage": "public_notice", "unit": "县环保局"}, headers=clerk.headers
    )
    assert new_case_id in {c["case_id"] for c in listed.json()}


async def test_unknown_cases_are_404(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account]
) -> None:
    http, _ = live
    auditor, secretary = accounts[Role.AUDITOR], accounts[Role.COMMITTEE_SECRETARY]
    assert (await http.get("/cases/NO-SUCH-CASE", headers=auditor.headers)).status_code == 404
    timeline = await http.get("/cases/NO-SUCH-CASE/timeline", headers=auditor.headers)
    assert timeline.status_code == 404
    response = await http.post(
        "/cases/NO-SUCH-CASE/steps/record_vote",
        json={"meeting": meeting(9), "items": [{"person_id": "p1", "agree": 8, "disagree": 1}]},
        headers=secretary.headers,
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "no case NO-SUCH-CASE"


async def test_a_withdrawn_case_refuses_further_steps(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account], new_case_id: str
) -> None:
    http, runner = live
    clerk, head = accounts[Role.CLERK], accounts[Role.DEPARTMENT_HEAD]
    await start(http, runner, clerk, new_case_id)
    response = await http.post(
        f"/cases/{new_case_id}/withdraw", json={"reason": "岗位撤销"}, headers=head.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    later = await http.post(
        f"/cases/{new_case_id}/steps/record_investigation_notice",
        json={"published_on": iso(INVESTIGATION_NOTICE)},
        headers=clerk.headers,
    )
    assert later.status_code in (404, 409)
    assert later.json()["detail"]
    events = await runner.events(new_case_id)
    withdrawn = [e for e in events if e.actor_name == head.name]
    assert withdrawn and withdrawn[0].actor_role is Role.DEPARTMENT_HEAD
