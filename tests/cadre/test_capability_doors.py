"""A capability test campaign through its doors on the time-skipping server: imported from
the console (a sheet with bad rows first, which starts nothing), read, its failing cadre
retested and handled from the console's forms after three months of self-study, a step
refused by the campaign's policy (403, in Chinese) and by the table (403); the campaign's
report as CSV; and the same start through the API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cadre_calls import campaign
from api.deps import Services
from tests.api.conftest import client_for, make_account
from tests.cadre.conftest import Stack, csv_file, settle, workbook
from tests.web.console_fixtures import Person, make_person, sign_in
from workflows.cadre_enums import RetestStatus
from workflows.capability_types import RetestState
from workflows.types import Role

HEADER = ["人员编号", "姓名", "单位", "职务", "成绩"]
GOOD = [
    ["C1", "张三", "县财政局", "股长", 59.5],
    ["C2", "李四", "县财政局", "副局长", 85],
    ["C3", "王五", "县水利局", "股长", 60],
]


def _services(stack: Stack) -> Services:
    found: Services = stack.app.state.services
    return found


async def _import(
    person: Person, campaign_id: str, name: str, data: bytes, on: str
) -> httpx.Response:
    if not person.csrf:
        await person.get("/console/capability")
    return await person.http.post(
        "/console/capability",
        data={
            "csrf": person.csrf,
            "campaign_id": campaign_id,
            "title": "2026 年行政管理能力测试",
            "tested_on": on,
            "notified_on": on,
        },
        files={"file": (name, data)},
    )


async def _retest(stack: Stack, campaign_id: str, status: RetestStatus) -> RetestState:
    async def check() -> RetestState | None:
        found = await campaign(_services(stack), campaign_id)
        r = found.retests.get("C1")
        return r if r is not None and r.status is status else None

    return await settle(check)


async def test_a_campaign_through_the_console(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    campaign_id = f"K{uuid.uuid4().hex[:8]}"
    today = (await stack.today()).isoformat()
    clerk = await sign_in(stack.app, await make_person(session_factory, Role.CLERK), Role.CLERK)
    head_name = await make_person(session_factory, Role.DEPARTMENT_HEAD)
    head = await sign_in(stack.app, head_name, Role.DEPARTMENT_HEAD)
    team = await sign_in(
        stack.app, await make_person(session_factory, Role.INSPECTION_TEAM), Role.INSPECTION_TEAM
    )
    async with clerk, head, team:
        # a sheet with bad rows: each told by row and column, nothing starts
        bad = csv_file(
            HEADER, [["C1", "张三", "县财政局", "股长", 101], ["C2", "", "县财政局", "", 70]]
        )
        refused = await _import(clerk, campaign_id, "成绩.csv", bad, today)
        assert refused.status_code == 422, refused.text[:2000]
        assert "第 3 行「姓名」" in refused.text
        over = await _import(
            clerk,
            campaign_id,
            "成绩.xlsx",
            workbook(HEADER, [["C1", "张三", "县财政局", "股长", 101]]),
            today,
        )
        assert over.status_code == 422
        assert "第 2 行「成绩」" in over.text and "应在 0 到满分 100 分之间" in over.text
        assert campaign_id not in await clerk.get("/console/capability")

        # the table: an inspection-team member may read nothing of it, nor start one
        assert (await team.http.get("/console/capability")).status_code == 403

        started = await _import(clerk, campaign_id, "成绩.xlsx", workbook(HEADER, GOOD), today)
        assert started.status_code == 303, started.text[:2000]
        assert started.headers["location"].startswith(f"/console/capability/{campaign_id}")
        first = await _retest(stack, campaign_id, RetestStatus.SELF_STUDY)
        page = await clerk.get(f"/console/capability/{campaign_id}")
        assert "张三" in page and "自学中" in page and "可列为后备干部" in page
        assert f"自学至 {first.self_study_ends_on}" in page
        assert campaign_id in await clerk.get("/console/capability")
        again = await _import(clerk, campaign_id, "成绩.xlsx", workbook(HEADER, GOOD), today)
        assert again.status_code == 422 and "已经存在" in again.text

        # three months of self-study pass; the retest is awaited
        await stack.env.sleep(first.retest_opens_on - await stack.today() + timedelta(days=1))
        await _retest(stack, campaign_id, RetestStatus.AWAITING_RETEST)
        day = (await stack.today()).isoformat()
        retest = f"/console/capability/{campaign_id}/C1/retest"
        page = await clerk.get(f"/console/capability/{campaign_id}")
        assert f'href="{retest}"' in page
        # the head's role is in the table, but not in the campaign's policy: the workflow
        # refuses, in Chinese, and nothing is recorded
        await head.get(retest)
        not_his = await head.post(retest, {"tested_on": day, "score": "50"})
        assert not_his.status_code == 403, not_his.text[:2000]
        assert "只能由干部科工作人员、科长登记" in not_his.text
        await clerk.get(retest)
        done = await clerk.post(retest, {"tested_on": day, "score": "50"})
        assert done.status_code == 303, done.text[:2000]
        await _retest(stack, campaign_id, RetestStatus.AWAITING_HANDLING)

        handling = f"/console/capability/{campaign_id}/C1/handling"
        await head.get(handling)
        decided = await head.post(
            handling,
            {
                "decision": "non_leading_post",
                "decided_on": day,
                "reason": "两次测试不合格",
                "reference": "组干〔2027〕3号",
            },
        )
        assert decided.status_code == 303, decided.text[:2000]
        handled = await _retest(stack, campaign_id, RetestStatus.HANDLED)
        assert handled.handling is not None and handled.handling.actor.name == head_name
        page = await head.get(f"/console/capability/{campaign_id}")
        assert "已组织处理" in page and "改任非领导职务" in page

        report = await head.http.get(f"/console/capability/{campaign_id}/report.csv")
        assert report.status_code == 200
        text = report.content.decode("utf-8-sig")
        assert "参加测试,3" in text and "合格,2" in text and "补测不合格,1" in text
        assert "组织处理：改任非领导职务,1" in text and "组织处理：降职,0" in text
        xlsx = await head.http.get(f"/console/capability/{campaign_id}/report.xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_a_campaign_through_the_api(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    campaign_id = f"A{uuid.uuid4().hex[:8]}"
    today = (await stack.today()).isoformat()
    clerk = await make_account(session_factory, Role.CLERK)
    auditor = await make_account(session_factory, Role.AUDITOR)
    body = {
        "campaign_id": campaign_id,
        "title": "能力测试",
        "tested_on": today,
        "notified_on": today,
        "results": [
            {"person_id": "C1", "name": "张三", "unit": "县财政局", "score": "101"},
        ],
    }
    async with client_for(stack.app) as http:
        over = await http.post("/capability-tests", json=body, headers=clerk.headers)
        assert over.status_code == 409 and "满分 100 分" in over.json()["detail"]
        denied = await http.post("/capability-tests", json=body, headers=auditor.headers)
        assert denied.status_code == 403
        assert denied.json()["detail"] == "审计人员无权导入能力测试成绩"
        body["results"][0]["score"] = "40"  # type: ignore[index]
        started = await http.post("/capability-tests", json=body, headers=clerk.headers)
        assert started.status_code == 201, started.text

        async def read() -> dict[str, object] | None:
            got = await http.get(f"/capability-tests/{campaign_id}", headers=auditor.headers)
            assert got.status_code == 200, got.text
            found: dict[str, object] = got.json()
            return found if found["retests"] else None

        found = await settle(read)
        assert found["retests"]["C1"]["status"] == "self_study"  # type: ignore[index]
        early = await http.post(
            f"/capability-tests/{campaign_id}/C1/retest",
            json={"tested_on": today, "score": "70"},
            headers=clerk.headers,
        )
        assert early.status_code == 409 and "自学中" in early.json()["detail"]
        listed = await http.get("/capability-tests", headers=auditor.headers)
        assert campaign_id in [c["key"] for c in listed.json()]
        missing = await http.get("/capability-tests/NOPE-1", headers=auditor.headers)
        assert missing.status_code == 404
