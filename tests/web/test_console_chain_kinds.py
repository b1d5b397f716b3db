"""The audit chains that are not appointment cases (a capability retest's, the cadre
register's): the console's case lists and the API's list leave them out unless asked, and the
auditor's search and timeline show them, each labelled by its kind in Chinese."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.records import RecordActivities
from store.register_audit import REGISTER_CHAIN_ID, append_register_event
from tests.api.conftest import live, make_account  # noqa: F401  (fixture)
from tests.web.console_fixtures import make_person, sign_in
from tests.web.test_console_cases import app_of
from tests.workflows.conftest import CaseRunner
from workflows.cadre_records import chain_listing
from workflows.ids import capability_retest_workflow_id
from workflows.types import (
    Actor,
    CaseStage,
    CaseStatus,
    ChainKind,
    RecordEventInput,
    Role,
)

Live = tuple[httpx.AsyncClient, CaseRunner]


async def chains(sessions: async_sessionmaker[AsyncSession], person: str) -> str:
    """A retest's chain, its listing active with a deadline (so only its kind keeps it off
    the lists), and a register change, both naming ``person``; the retest's id."""
    retest = capability_retest_workflow_id(f"cap-{uuid.uuid4().hex[:6]}", person)
    at = datetime.now(UTC)
    listing = chain_listing(retest, "县财政局", "股长", at.date()).model_copy(
        update={"status": CaseStatus.ACTIVE, "stage": CaseStage.VOTE, "next_deadline": at}
    )
    await RecordActivities(sessions).record_event(
        RecordEventInput(
            case_id=retest,
            seq=1,
            kind="capability_self_study",
            stage=CaseStage.CLOSED,
            occurred_at=at - timedelta(minutes=1),
            actor_name="系统",
            actor_role=Role.SYSTEM,
            summary="自学（测试）",
            # as the retest workflow writes it (the digest reads every retest's self-study)
            payload={
                "person_id": person,
                "self_study_ends_on": str(at.date() + timedelta(days=90)),
                "retest_opens_on": str(at.date() + timedelta(days=91)),
            },
            case=listing,
        )
    )
    async with sessions() as s:
        await append_register_event(
            s,
            Actor(name="李科员", role=Role.CLERK),
            "register_changed",
            "名册变更（测试）",
            {"person_id": person},
        )
        await s.commit()
    return retest


async def test_lists_leave_them_out_and_the_auditor_sees_them_by_kind(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    http, _ = live
    app = app_of(live)
    person = f"p-{uuid.uuid4().hex[:8]}"
    retest = await chains(session_factory, person)
    head = await make_person(session_factory, Role.DEPARTMENT_HEAD)
    async with await sign_in(app, head, Role.DEPARTMENT_HEAD) as leader:
        for path in ("/console/", "/console/?status=withdrawn", "/console/?stage=vote"):
            page = await leader.get(path)
            assert retest not in page and REGISTER_CHAIN_ID not in page, path
    reader = await make_account(session_factory, Role.CLERK)
    listed = await http.get("/cases?status=withdrawn&limit=1000", headers=reader.headers)
    assert listed.status_code == 200
    assert not {retest, REGISTER_CHAIN_ID} & {r["case_id"] for r in listed.json()}
    asked = await http.get("/cases?chain=capability_retest&limit=1000", headers=reader.headers)
    rows = {r["case_id"]: r for r in asked.json()}
    assert rows[retest]["chain"] == ChainKind.CAPABILITY_RETEST.value
    auditor_name = await make_person(session_factory, Role.AUDITOR)
    async with await sign_in(app, auditor_name, Role.AUDITOR) as auditor:
        found = await auditor.get(f"/console/audit?person={person}")
        assert retest in found and REGISTER_CHAIN_ID in found
        assert '<td class="chain-kind">能力测试补测与组织处理</td>' in found
        assert '<td class="chain-kind">干部名册及交流决定</td>' in found
        timeline = await auditor.get(f"/console/audit/cases/{retest}")
        assert f"审计链 {retest} 的完整记录" in timeline
        assert "类别：能力测试补测与组织处理（不是任用案件）" in timeline
        register = await auditor.get(f"/console/audit/cases/{REGISTER_CHAIN_ID}")
        assert "类别：干部名册及交流决定（不是任用案件）" in register
