"""The API on the real Temporal dev server, a real worker and PostgreSQL: a regular case
started, driven through inspection to the vote by the proper roles, refusals and errors; the
inspection recorded only by members of the case's own team."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.permissions import refusal
from tests.api.conftest import Account, make_account
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import (
    INSPECTION_DONE,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
    regular_case,
)
from workflows.ids import case_workflow_id
from workflows.rules.working_days import SHANGHAI
from workflows.types import FOUR_MUSTS, CaseStage, Role

QUORUM_REFUSAL = "未达到法定到会人数：应到 11 人，实到 7 人，至少须 8 人到会"


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


def inspection_inputs(pid: str) -> list[tuple[str, dict[str, Any]]]:
    """What the inspection team records of one candidate: (update, body), in order."""
    checks = [
        (
            "record_inspection_check",
            {"person_id": pid, "check": c.value, "completed_on": "2026-09-10", "finding": "无问题"},
        )
        for c in FOUR_MUSTS
    ]
    evaluation = {
        "person_id": pid,
        "held_on": "2026-09-09",
        "participants": 40,
        "excellent": 30,
        "competent": 8,
        "basically_competent": 2,
        "incompetent": 0,
    }
    report = {"person_id": pid, "submitted_on": iso(INSPECTION_DONE), "summary": "德才表现良好"}
    return [
        *checks,
        ("record_democratic_evaluation", evaluation),
        ("record_inspection_report", report),
    ]


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
    # the clerk forms the team; its members are named by their accounts
    await step(
        http,
        clerk,
        case_id,
        "record_inspection_team",
        {"members": [team.name, "周干事"], "started_on": iso(INSPECTION_START)},
    )
    for pid in ("p1", "p2"):
        for update, body in inspection_inputs(pid):
            await step(http, team, case_id, update, body)
    return await step(
        http,
        clerk,
        case_id,
        "conclude_inspection",
        {"concluded_on": "2026-09-16", "proposed": ["p1"]},
    )


async def recorded_inputs(runner: CaseRunner, case_id: str) -> int:
    """How many steps people have recorded: what a refused request must leave unchanged (the
    case's own alarms may be recorded meanwhile: its past-dated steps are overdue at once)."""
    return sum(e.kind == "input" for e in await runner.events(case_id))


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
    assert again.status_code == 409 and again.json()["code"] == "case_exists"
    assert again.json()["detail"] == f"案件 {new_case_id} 已经存在"

    state = await to_the_vote(http, accounts, new_case_id)
    assert state["stage"] == CaseStage.VOTE

    # A refused vote: the rule's sentence, code and source, and nothing recorded.
    await settled(runner, new_case_id)
    before = await recorded_inputs(runner, new_case_id)
    refused = await http.post(
        f"/cases/{new_case_id}/steps/record_vote",
        json={"meeting": meeting(7), "items": [{"person_id": "p1", "agree": 6, "disagree": 1}]},
        headers=secretary.headers,
    )
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": QUORUM_REFUSAL,
        "code": "vote.quorum",
        "rule": "《党政领导干部选拔任用工作条例》关于讨论决定的规定：应到会成员三分之二以上到会",
    }
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
    assert await recorded_inputs(runner, new_case_id) == before
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

    # The audit views of the same case: the secretary's one input, the case as of tomorrow,
    # its dossier.
    auditor = accounts[Role.AUDITOR].headers
    found = await http.get("/audit/events", params={"actor": secretary.name}, headers=auditor)
    assert found.status_code == 200, found.text
    [vote] = found.json()["events"]
    assert (vote["case_id"], vote["kind"], vote["actor_role"]) == (
        new_case_id,
        "input",
        "committee_secretary",
    )
    assert vote["payload"]["meeting"]["present"] == 9
    assert found.json()["next"] is None
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
    view = await http.get(f"/audit/cases/{new_case_id}/as-of/{tomorrow}", headers=auditor)
    assert view.status_code == 200, view.text
    assert view.json()["standing"]["stage"] == "public_notice"
    assert view.json()["standing"]["unit"] == "县环保局"
    assert [e["seq"] for e in view.json()["events"]][: len(timeline_seqs)] == timeline_seqs
    dossier = await http.get(
        f"/audit/cases/{new_case_id}/dossier", params={"format": "html"}, headers=auditor
    )
    assert dossier.status_code == 200
    assert dossier.headers["content-type"] == "text/html; charset=utf-8"
    assert dossier.headers["content-disposition"] == (
        f'attachment; filename="dossier-{new_case_id}.html"'
    )
    assert int(dossier.headers["x-dossier-events"]) >= len(timeline_seqs)
    assert new_case_id in dossier.text


async def test_only_members_of_its_team_record_a_cases_inspection(
    live: tuple[httpx.AsyncClient, CaseRunner],
    accounts: dict[Role, Account],
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    http, runner = live
    clerk, member = accounts[Role.CLERK], accounts[Role.INSPECTION_TEAM]
    outsider = await make_account(session_factory, Role.INSPECTION_TEAM)
    await start(http, runner, clerk, new_case_id)
    await step(
        http,
        clerk,
        new_case_id,
        "record_investigation_notice",
        {"published_on": iso(INVESTIGATION_NOTICE)},
    )
    # one check, the evaluation and the report
    inputs = dict(inspection_inputs("p1")[len(FOUR_MUSTS) - 1 :])
    url = f"/cases/{new_case_id}/steps/"
    early = await http.post(
        url + "record_inspection_check",
        json=inputs["record_inspection_check"],
        headers=member.headers,
    )
    assert early.status_code == 403
    assert "尚未登记考察组" in early.json()["detail"] and early.json()["code"] == "not_on_team"
    team = {"members": [member.name, "周干事"], "started_on": iso(INSPECTION_START)}
    by_member = await http.post(url + "record_inspection_team", json=team, headers=member.headers)
    assert by_member.status_code == 403
    assert by_member.json()["detail"] == refusal("record_inspection_team", Role.INSPECTION_TEAM)
    await step(http, clerk, new_case_id, "record_inspection_team", team)

    await settled(runner, new_case_id)
    before = await recorded_inputs(runner, new_case_id)
    for update, body in inputs.items():
        refused = await http.post(url + update, json=body, headers=outsider.headers)
        assert refused.status_code == 403, (update, refused.text)
        assert refused.json()["detail"] == (
            f"{outsider.name} 不是案件 {new_case_id} 考察组的成员"
            f"（考察组为 {member.name}、周干事）：只有考察组成员才能登记考察情况"
        )
    assert await recorded_inputs(runner, new_case_id) == before

    for update, body in inputs.items():
        await step(http, member, new_case_id, update, body)
    actors = {e.actor_name for e in await runner.events(new_case_id) if e.kind == "input"}
    assert member.name in actors and outsider.name not in actors


async def test_text_postgresql_cannot_store_is_refused_before_it_is_sent(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account], new_case_id: str
) -> None:
    http, runner = live
    clerk = accounts[Role.CLERK]
    await start(http, runner, clerk, new_case_id)
    await settled(runner, new_case_id)
    before = await recorded_inputs(runner, new_case_id)
    response = await http.post(
        f"/cases/{new_case_id}/withdraw", json={"reason": "撤销\u0000"}, headers=clerk.headers
    )
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["loc"] == ["body", "reason"] and "U+0000" in problem["msg"]
    assert await recorded_inputs(runner, new_case_id) == before
    assert (await runner.state(runner.started[0])).status.value == "active"


async def test_unknown_cases_are_404(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account]
) -> None:
    http, _ = live
    team = accounts[Role.INSPECTION_TEAM]
    auditor, secretary = accounts[Role.AUDITOR], accounts[Role.COMMITTEE_SECRETARY]
    assert (await http.get("/cases/NO-SUCH-CASE", headers=auditor.headers)).status_code == 404
    timeline = await http.get("/cases/NO-SUCH-CASE/timeline", headers=auditor.headers)
    assert timeline.status_code == 404
    vote = {"meeting": meeting(9), "items": [{"person_id": "p1", "agree": 8, "disagree": 1}]}
    # a team member's input asks the case for its team first: the same 404
    report = inspection_inputs("p1")[-1]
    for who, (update, body) in ((secretary, ("record_vote", vote)), (team, report)):
        response = await http.post(
            f"/cases/NO-SUCH-CASE/steps/{update}", json=body, headers=who.headers
        )
        assert response.status_code == 404, update
        assert response.json()["detail"] == "案件 NO-SUCH-CASE 不存在"
    as_of = await http.get("/audit/cases/NO-SUCH-CASE/as-of/2026-09-01", headers=auditor.headers)
    assert (as_of.status_code, as_of.json()["detail"]) == (
        404,
        "案件 NO-SUCH-CASE 没有任何登记记录",
    )


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
