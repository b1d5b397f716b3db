"""Rotation batches through their doors on the time-skipping server with a real worker and
the real PostgreSQL: made, read and moved through the API (a role the table refuses, a
person the scan did not list), the arrival giving the register its new version; made from the
scan's page of the console, then a move cancelled from the batch's page (a clerk refused by
the batch's policy, in Chinese)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sheets.columns import REGISTER_PEOPLE, REGISTER_POSTS
from store.register import decide_rotation
from store.register_queries import person_history
from tests.api.conftest import client_for, make_account
from tests.cadre.conftest import Stack, settle
from tests.register.people import imported
from tests.web.console_fixtures import make_person, sign_in
from workflows.glossary import CADRE_STEPS
from workflows.register_types import (
    PersonRow,
    PostRow,
    RotationDecision,
    RotationScanInput,
    RotationScanResult,
)
from workflows.rotation import RotationScanWorkflow
from workflows.types import Actor, Role

HEAD = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)
BATCHES = "/register/rotation-batches"


async def decided_scan(
    stack: Stack, sessions: async_sessionmaker[AsyncSession]
) -> tuple[str, list[str]]:
    """Two ordinary cadres of 城关镇 since 2014, listed by a real scan, decided 交流."""
    ids = [f"RD{uuid.uuid4().hex[:8]}" for _ in range(2)]
    await imported(
        sessions,
        REGISTER_PEOPLE,
        [PersonRow(person_id=pid, name=n) for pid, n in zip(ids, ["甲", "乙"], strict=True)],
        "名册导入",
    )
    await imported(
        sessions,
        REGISTER_POSTS,
        [
            PostRow(
                person_id=pid,
                unit="城关镇人民政府",
                township="城关镇",
                rank="科员",
                started_on=date(2014, 6, 1),
            )
            for pid in ids
        ],
        "任职经历导入",
    )
    scan_id = f"rotation-scan-{uuid.uuid4().hex[:8]}"
    # the clock stands still while the scan runs (see tests/workflows/test_rotation_batch.py)
    with stack.env.auto_time_skipping_disabled():
        result: RotationScanResult = await stack.env.client.execute_workflow(
            RotationScanWorkflow.run,
            RotationScanInput(as_of=await stack.today()),
            id=scan_id,
            task_queue=stack.runner.task_queue,
        )
    assert set(ids) <= {d.person_id for d in result.due}
    for pid in ids:
        async with sessions() as s, s.begin():
            await decide_rotation(s, scan_id, pid, RotationDecision.ROTATE, "", HEAD)
    return scan_id, ids


async def test_a_batch_through_the_api_and_the_console(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    scan_id, (first, second) = await decided_scan(stack, session_factory)
    today = (await stack.today()).isoformat()
    clerk = await make_account(session_factory, Role.CLERK)
    auditor = await make_account(session_factory, Role.AUDITOR)
    batch_id = f"A{uuid.uuid4().hex[:8]}"
    body = {
        "batch_id": batch_id,
        "title": "乡镇一般干部交流",
        "scan_id": scan_id,
        "moves": [{"person_id": "NOBODY", "to_unit": "樟市镇人民政府"}],
    }
    async with client_for(stack.app) as http:
        denied = await http.post(BATCHES, json=body, headers=auditor.headers)
        assert denied.status_code == 403
        assert denied.json()["detail"] == "审计人员无权编组交流批次"
        refused = await http.post(BATCHES, json=body, headers=clerk.headers)
        assert refused.status_code == 409 and "不在交流排查" in refused.json()["detail"]
        body["moves"] = [{"person_id": first, "to_unit": "樟市镇人民政府", "to_township": "樟市镇"}]
        made = await http.post(BATCHES, json=body, headers=clerk.headers)
        assert made.status_code == 201, made.text

        async def scheduled() -> dict[str, object] | None:
            got = await http.get(f"{BATCHES}/{batch_id}", headers=auditor.headers)
            assert got.status_code == 200, got.text
            found: dict[str, object] = got.json()
            moves: list[dict[str, object]] = found["moves"]  # type: ignore[assignment]
            return found if moves[0]["document_schedule"] else None

        state = await settle(scheduled)
        assert state["moves"][0]["status"] == "awaiting_document"  # type: ignore[index]
        # the move's document waits in a clerk's tasks (干部管理待办), with the batch's page
        person = await make_person(session_factory, Role.CLERK)
        async with await sign_in(stack.app, person, Role.CLERK) as console_clerk:

            async def in_tasks() -> str | None:
                page = await console_clerk.get("/console/tasks")
                return page if f"/console/register/rotation-batches/{batch_id}" in page else None

            page = await settle(in_tasks)
        assert CADRE_STEPS["record_rotation_document"] in page and "乡镇一般干部交流" in page
        where = f"{BATCHES}/{batch_id}/{first}"
        document = await http.post(
            f"{where}/document",
            json={"issued_on": today, "reference": "组干〔2026〕20号"},
            headers=clerk.headers,
        )
        assert document.status_code == 200, document.text
        assert document.json()["status"] == "awaiting_arrival"
        arrived = await http.post(
            f"{where}/arrival", json={"arrived_on": today}, headers=clerk.headers
        )
        assert arrived.status_code == 200, arrived.text
        assert arrived.json()["arrival"]["register_version"] == 3
        # a move arrived is done: cancelling it is refused (by the batch, or, once the batch
        # has ended with its one move, because it has)
        head_account = await make_account(session_factory, Role.DEPARTMENT_HEAD)
        late = await http.post(
            f"{where}/cancel", json={"reason": "改派"}, headers=head_account.headers
        )
        assert late.status_code == 409, late.text
        listed = await http.get(BATCHES, headers=auditor.headers)
        assert batch_id in [b["batch_id"] for b in listed.json()]
        missing = await http.get(f"{BATCHES}/NOPE-1", headers=auditor.headers)
        assert missing.status_code == 404
    async with session_factory() as s:
        newest = (await person_history(s, first))[-1]
    assert batch_id in newest.reason and newest.record.posts[-1].unit == "樟市镇人民政府"

    # the console: the head makes a batch of the second person on the scan's page
    head = await sign_in(
        stack.app, await make_person(session_factory, Role.DEPARTMENT_HEAD), Role.DEPARTMENT_HEAD
    )
    console_clerk = await sign_in(
        stack.app, await make_person(session_factory, Role.CLERK), Role.CLERK
    )
    async with head, console_clerk:
        page = await head.get(f"/console/register/rotations/{scan_id}")
        assert "编组交流批次" in page
        console_batch = f"C{uuid.uuid4().hex[:8]}"
        made_page = await head.post(
            "/console/register/rotation-batches",
            {
                "scan_id": scan_id,
                "batch_id": console_batch,
                "title": "第二批",
                "person_id": second,
                f"to_unit:{second}": "县农业农村局",
            },
        )
        assert made_page.status_code == 303, made_page.text
        here = f"/console/register/rotation-batches/{console_batch}"
        assert made_page.headers["location"].startswith(here)

        async def ready() -> str | None:
            text = await head.get(here)
            return text if "须于" in text else None

        text = await settle(ready)
        assert "待印发交流文件" in text and "县农业农村局" in text
        refused_page = await console_clerk.post(f"{here}/{second}/cancel", {"reason": "改派"})
        assert refused_page.status_code == 403
        assert "撤销交流只能由部领导登记" in refused_page.text
        cancelled = await head.post(f"{here}/{second}/cancel", {"reason": "县农业农村局暂不缺员"})
        assert cancelled.status_code == 303, cancelled.text
        text = await head.get(here)
        assert "已撤销" in text and "县农业农村局暂不缺员" in text and "已办结" in text
        listing = await head.get("/console/register/rotation-batches")
        assert console_batch in listing and batch_id in listing
