"""Probations through the API on the real Temporal dev server, a real worker and PostgreSQL:
listing with filters, reading one, the review and the early end by the roles the
probation's policy names, refusals, malformed input and unknown probations."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
from temporalio.client import WorkflowQueryFailedError

from activities.probation_parts import start_probation
from api.permissions import END_PROBATION_EARLY, refusal
from tests.api.conftest import Account
from tests.workflows.conftest import CaseRunner
from workflows.ids import legacy_probation_workflow_id
from workflows.probation_types import (
    ProbationInput,
    ProbationState,
    probation_end,
    probation_workflow_id,
)
from workflows.rules.working_days import SHANGHAI
from workflows.types import Role

# policy/default.yaml: the review opens 30 days before the year ends; only the department
# head records the review and an early end
REVIEW_WINDOW = 30
DAYS_IN = 340  # a probation begun this long ago is inside its review window


async def today(runner: CaseRunner) -> date:
    return (await runner.env.get_current_time()).astimezone(SHANGHAI).date()


async def bring_in(runner: CaseRunner, case_id: str, person_id: str, starts_on: date) -> str:
    """A probation brought in as the import does (already begun); it is ended with the test."""
    item = ProbationInput(
        case_id=case_id,
        person_id=person_id,
        name=f"试用{person_id}",
        unit="县发展和改革局",
        post="副局长",
        starts_on=starts_on,
        former_rank="正科级",
        imported=True,
    )
    await start_probation(runner.env.client, item, runner.task_queue)
    runner.started.append(runner.env.client.get_workflow_handle(item.workflow_id))
    return item.workflow_id


async def recorded(
    runner: CaseRunner, probation_id: str, expect: list[str] | None = None
) -> list[str]:
    """The kinds of the probation's recorded events, once it has written all it counts (and,
    with ``expect``, once they are those: a probation brought in late records each missed
    reminder in turn, so "all it counts" can be one short for a moment)."""
    from store.probation_models import probation_history

    handle = runner.env.client.get_workflow_handle(probation_id)
    for _ in range(100):
        try:
            state = await handle.query("state", result_type=ProbationState)
        except WorkflowQueryFailedError:  # still reading its policy: not ready for questions
            await asyncio.sleep(0.1)
            continue
        async with runner.sessions() as s:
            events = await probation_history(s, probation_id)
        kinds = [e.kind for e in events]
        settled = state.events_recorded and len(events) == state.events_recorded
        if settled and (expect is None or kinds == expect):
            return kinds
        await asyncio.sleep(0.1)
    raise AssertionError(f"probation {probation_id} did not settle")


def review(on: date, **extra: Any) -> dict[str, Any]:
    return {
        "outcome": "competent",
        "reviewed_on": on.isoformat(),
        "summary": "德、能、勤、绩、廉各方面表现良好",
        **extra,
    }


async def test_list_read_review_and_end_early(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account], new_case_id: str
) -> None:
    http, runner = live
    head, clerk = accounts[Role.DEPARTMENT_HEAD], accounts[Role.CLERK]
    auditor = accounts[Role.AUDITOR]
    now = await today(runner)
    reviewed = await bring_in(runner, new_case_id, "P1", now - timedelta(days=DAYS_IN))
    ended = await bring_in(runner, new_case_id, "P2", now - timedelta(days=100))
    missed = ["opened", "reminder_missed", "reminder_missed"]
    assert await recorded(runner, reviewed, missed) == missed
    assert await recorded(runner, ended, ["opened"]) == ["opened"]

    # listing: by case, person, status and end of year, paged
    listed = await http.get("/probations", params={"case": new_case_id}, headers=auditor.headers)
    assert listed.status_code == 200, listed.text
    assert [(p["person_id"], p["status"]) for p in listed.json()] == [
        ("P1", "on_probation"),
        ("P2", "on_probation"),
    ]
    first_ends = probation_end(now - timedelta(days=DAYS_IN))
    filters: list[tuple[dict[str, Any], list[str]]] = [
        ({"person": "P2"}, ["P2"]),
        ({"due_before": (first_ends + timedelta(days=1)).isoformat()}, ["P1"]),
        ({"due_before": first_ends.isoformat()}, []),
        ({"status": "removed"}, []),
        ({"limit": 1, "offset": 1}, ["P2"]),
    ]
    for params, people in filters:
        page = await http.get(
            "/probations", params={"case": new_case_id, **params}, headers=clerk.headers
        )
        assert [p["person_id"] for p in page.json()] == people, params

    # the clerk is not among the policy's reviewers: the probation's own validator refuses
    # (403), so nothing enters its history
    refused = await http.post(
        f"/probations/{new_case_id}/P1/review", json=review(now), headers=clerk.headers
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        f"试用期满考核只能由部领导登记（本地政策）；{clerk.name}是干部科工作人员"
    )
    # malformed: nothing sent either
    for body in (
        review(now, outcome="excellent"),
        review(now, actor={"name": "部长", "role": "department_head"}),
        review(now, summary=""),
        review(now, summary="良好\x00"),
        {"outcome": "competent"},
    ):
        malformed = await http.post(
            f"/probations/{new_case_id}/P1/review", json=body, headers=head.headers
        )
        assert malformed.status_code == 422, (body, malformed.text)
    # a rule of the probation: a review dated in the future
    future = await http.post(
        f"/probations/{new_case_id}/P1/review",
        json=review(now + timedelta(days=1)),
        headers=head.headers,
    )
    assert future.status_code == 409
    assert future.json() == {
        "detail": (
            f"试用期满考核的日期（{now + timedelta(days=1)}）晚于今天（{now}），"
            "尚未发生的事项不能登记"
        ),
        "code": "dates.not_future",
        "rule": "办理程序：尚未发生的事项不能登记",
    }
    assert await recorded(runner, reviewed) == missed

    # the department head records it, under the head's account
    done = await http.post(
        f"/probations/{new_case_id}/P1/review", json=review(now), headers=head.headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["review_status"] == "competent"
    actor = done.json()["review"]["actor"]
    assert actor == {"name": head.name, "role": "department_head", "on_behalf_of": None}
    again = await http.post(
        f"/probations/{new_case_id}/P1/review", json=review(now), headers=head.headers
    )
    assert again.status_code == 409
    assert again.json()["detail"].endswith(f"，{now}，考核人 {head.name}）；不能再次考核")
    assert again.json()["code"] == "probation.review"

    # an early end of the other
    decision = {
        "decided_by": "县委常委会",
        "decided_on": now.isoformat(),
        "reason": "试用期内违反中央八项规定精神",
    }
    by_clerk = await http.post(
        f"/probations/{new_case_id}/P2/end-early", json=decision, headers=clerk.headers
    )
    assert by_clerk.status_code == 403
    assert by_clerk.json()["detail"] == (
        f"提前结束试用期只能由部领导登记（本地政策）；{clerk.name}是干部科工作人员"
    )
    by_auditor = await http.post(
        f"/probations/{new_case_id}/P2/end-early", json=decision, headers=auditor.headers
    )
    assert by_auditor.status_code == 403
    assert by_auditor.json()["detail"] == refusal(END_PROBATION_EARLY, Role.AUDITOR)
    early = await http.post(
        f"/probations/{new_case_id}/P2/end-early", json=decision, headers=head.headers
    )
    assert early.status_code == 200, early.text
    assert (early.json()["status"], early.json()["review_status"]) == ("ended_early", "not_held")
    assert await recorded(runner, ended, ["opened", "ended_early"]) == ["opened", "ended_early"]
    # the probation is over: its workflow has completed
    await runner.env.client.get_workflow_handle(ended).result()
    over = await http.post(
        f"/probations/{new_case_id}/P2/end-early", json=decision, headers=head.headers
    )
    assert over.status_code == 409, over.text
    assert over.json()["detail"] == (
        f"案件 {new_case_id} 中 P2 的试用期已经结束，不能再登记任何事项"
    )

    # reading one: live state, history and mail
    one = await http.get(f"/probations/{new_case_id}/P1", headers=auditor.headers)
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["probation_id"] == probation_workflow_id(new_case_id, "P1")
    assert body["state"]["review_status"] == "competent"
    assert body["listing"]["review_status"] == "competent"
    assert [e["kind"] for e in body["history"]][-1] == "review"
    assert body["history"][-1]["actor_name"] == head.name
    assert {m["seq"] for m in body["mail"]} == {body["history"][-1]["seq"]}
    ended_one = await http.get(f"/probations/{new_case_id}/P2", headers=clerk.headers)
    assert ended_one.json()["state"]["status"] == "ended_early"
    assert [
        p["status"]
        for p in (
            await http.get(
                "/probations",
                params={"case": new_case_id, "status": "ended_early"},
                headers=clerk.headers,
            )
        ).json()
    ] == ["ended_early"]


async def test_unknown_probations_are_404(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account]
) -> None:
    http, runner = live
    head = accounts[Role.DEPARTMENT_HEAD].headers
    now = await today(runner)
    missing = "案件 NO-SUCH-CASE 中没有 P9 的试用期"
    read = await http.get("/probations/NO-SUCH-CASE/P9", headers=head)
    assert (read.status_code, read.json()["detail"]) == (404, missing)
    reviewed = await http.post("/probations/NO-SUCH-CASE/P9/review", json=review(now), headers=head)
    assert (reviewed.status_code, reviewed.json()["detail"]) == (404, missing)
    ended = await http.post(
        "/probations/NO-SUCH-CASE/P9/end-early",
        json={"decided_by": "县委常委会", "decided_on": now.isoformat(), "reason": "严重问题"},
        headers=head,
    )
    assert (ended.status_code, ended.json()["detail"]) == (404, missing)
    listed = await http.get("/probations", params={"case": "NO-SUCH-CASE"}, headers=head)
    assert (listed.status_code, listed.json()) == (200, [])


async def test_a_probation_under_the_old_form_of_id_is_read_and_ended(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account], new_case_id: str
) -> None:
    """Started before IDs were made unambiguous, it keeps its ID; the API finds it by case and
    person, and not for the other pair its old ID reads as."""
    http, runner = live
    head = accounts[Role.DEPARTMENT_HEAD].headers
    now = await today(runner)
    item = ProbationInput(
        case_id=new_case_id,
        person_id="P-1",
        name="试用P-1",
        unit="县发展和改革局",
        post="副局长",
        starts_on=now - timedelta(days=100),
    )
    old_id = legacy_probation_workflow_id(new_case_id, "P-1")
    handle = await runner.env.client.start_workflow(
        "ProbationWorkflow", item, id=old_id, task_queue=runner.task_queue
    )
    runner.started.append(handle)
    assert await recorded(runner, old_id, ["opened"]) == ["opened"]

    one = await http.get(f"/probations/{new_case_id}/P-1", headers=head)
    assert one.status_code == 200, one.text
    assert one.json()["probation_id"] == old_id and one.json()["state"]["person_id"] == "P-1"
    stranger = await http.get(f"/probations/{new_case_id}-P/1", headers=head)
    assert stranger.status_code == 404, stranger.text
    decision = {"decided_by": "县委常委会", "decided_on": now.isoformat(), "reason": "严重问题"}
    wrong = await http.post(f"/probations/{new_case_id}-P/1/end-early", json=decision, headers=head)
    assert wrong.status_code == 404, wrong.text
    early = await http.post(f"/probations/{new_case_id}/P-1/end-early", json=decision, headers=head)
    assert early.status_code == 200, early.text
    assert early.json()["probation_id"] == old_id and early.json()["status"] == "ended_early"
