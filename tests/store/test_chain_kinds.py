"""The audit chains that are not appointment cases (the cadre register's, a capability retest's)
have ``cases`` rows of their own kind (``cases.chain``): no listing, count, task list or
digest of cases shows them unless asked, while the auditors' search finds them, each named
by its kind; and migration 0018 gives the rows written before it their kinds by their ids."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest_asyncio
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.digest import _case_items
from activities.records import RecordActivities
from audit import queries as audit_queries
from store import queries
from store.db import make_engine, make_session_factory, to_libpq_url
from store.gauges import read_gauges
from store.migrate import alembic_config, upgrade_to_head
from store.register_audit import REGISTER_CHAIN_ID, append_register_event
from store.tasks import department_tasks, open_task_choices, tasks_of
from workflows.cadre_records import chain_listing
from workflows.glossary import zh
from workflows.ids import capability_retest_workflow_id, chain_kind_of
from workflows.probation_types import DigestRequest
from workflows.types import (
    Actor,
    CaseRow,
    CaseStage,
    CaseStatus,
    ChainKind,
    RecordEventInput,
    Role,
    SelectionMethod,
)

CASE = "K-1"
RETEST = capability_retest_workflow_id("2026-cap", "p-7")
PERSON = "p-7"  # named by the case, the register and the retest alike
AT = datetime(2026, 11, 2, 9, tzinfo=UTC)
DUE = AT + timedelta(days=2)


def event(case_id: str, seq: int, kind: str, row: CaseRow) -> RecordEventInput:
    return RecordEventInput(
        case_id=case_id,
        seq=seq,
        kind=kind,
        stage=row.stage,
        occurred_at=AT + timedelta(hours=seq),
        actor_name="系统",
        actor_role=Role.SYSTEM,
        summary=f"{kind}（测试）",
        payload={"person_id": PERSON, "step": "vote"},
        case=row,
    )


def case_row() -> CaseRow:
    return CaseRow(
        unit="县水利局",
        post="副局长",
        method=SelectionMethod.REGULAR_APPOINTMENT,
        stage=CaseStage.VOTE,
        status=CaseStatus.ACTIVE,
        opened_on=AT.date(),
        next_deadline=DUE,
        awaited_step="vote",
        awaited_role=Role.CLERK,
    )


def retest_row() -> CaseRow:
    """The retest's listing as the workflow writes it, but active, awaiting a step with a
    deadline, overdue, assigned: every column a listing of cases filters on would let it in,
    so only its kind keeps it out."""
    listing = chain_listing(RETEST, "县财政局", "股长", AT.date())
    return listing.model_copy(
        update={
            "status": CaseStatus.ACTIVE,
            "stage": CaseStage.VOTE,
            "next_deadline": DUE,
            "overdue": True,
            "awaited_step": "retest",
            "awaited_role": Role.CLERK,
            "assignee": "王科员",
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(migrated_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(migrated_database_url)
    factory = make_session_factory(engine)
    records = RecordActivities(factory)
    try:
        case = case_row().model_copy(update={"assignee": "王科员", "overdue": True})
        await records.record_event(event(CASE, 1, "opened", case))
        await records.record_event(event(RETEST, 1, "capability_self_study", retest_row()))
        async with factory() as s:
            await append_register_event(
                s,
                Actor(name="李科员", role=Role.CLERK),
                "register_changed",
                "干部名册变更（测试）",
                {"person_id": PERSON},
            )
            await s.commit()
        yield factory
    finally:
        await engine.dispose()


async def test_each_chain_is_listed_by_its_kind(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        kinds = await queries.chain_kinds(s, [CASE, RETEST, REGISTER_CHAIN_ID])
        register = await queries.get_case(s, REGISTER_CHAIN_ID)
    assert kinds == {
        CASE: ChainKind.APPOINTMENT,
        RETEST: ChainKind.CAPABILITY_RETEST,
        REGISTER_CHAIN_ID: ChainKind.CADRE_REGISTER,
    }
    assert register is not None and register.chain is ChainKind.CADRE_REGISTER
    # the kind is the one the id says (the dossier reads it from there)
    assert all(chain_kind_of(c) is k for c, k in kinds.items())


async def test_no_listing_of_cases_shows_the_other_chains(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        every = await queries.list_cases(s)
        withdrawn = await queries.list_cases(s, status=CaseStatus.WITHDRAWN.value)
        closed = await queries.list_cases(s, stage=CaseStage.CLOSED.value)
        overdue = await queries.list_cases(s, overdue=True)
        of_unit = await queries.list_cases(s, unit="组织部")
        asked = await queries.list_cases(s, chain=ChainKind.CAPABILITY_RETEST)
        register = await queries.list_cases(s, chain=ChainKind.CADRE_REGISTER)
    assert [r.case_id for r in every] == [CASE]
    assert [r.case_id for r in overdue] == [CASE]
    assert withdrawn == [] and closed == [] and of_unit == []
    # asked for, they are there
    assert [r.case_id for r in asked] == [RETEST]
    assert [r.case_id for r in register] == [REGISTER_CHAIN_ID]


async def test_no_count_task_list_or_digest_counts_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        by_stage = await queries.active_cases_by_stage(s)
        gauges = await read_gauges(s)
        mine = await tasks_of(s, "王科员", Role.CLERK)
        queue = await tasks_of(s, "赵科员", Role.CLERK)
        everyone = await department_tasks(s)
        choices = await open_task_choices(s)
        request = DigestRequest(as_of=AT, today=AT.date(), days_ahead=5)
        digest = await _case_items(s, request, AT.date() + timedelta(days=5))
    assert by_stage == {CaseStage.VOTE: (1, 1)}  # the case alone, overdue
    assert gauges.active_by_stage[CaseStage.VOTE] == 1
    assert gauges.overdue_by_stage[CaseStage.VOTE] == 1
    assert [t.case_id for t in mine.mine] == [CASE]
    assert queue.queue == [] and [t.case_id for t in everyone] == [CASE]
    assert choices.assignees == ["王科员"] and choices.roles == [Role.CLERK]
    assert [i.ref for i in digest] == [CASE]


async def test_the_auditors_search_finds_every_chain_by_its_kind(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        page = await audit_queries.search(s, audit_queries.Search(person=PERSON))
        kinds = await queries.chain_kinds(s, {e.case_id for e in page.events})
    assert {e.case_id for e in page.events} == {CASE, RETEST, REGISTER_CHAIN_ID}
    assert {zh(kinds[e.case_id]) for e in page.events} == {
        "干部选拔任用案件",
        "能力测试补测与组织处理",
        "干部名册及交流决定",
    }


async def test_the_migration_gives_old_rows_their_kinds(throwaway_database_url: str) -> None:
    url = throwaway_database_url
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0017_cadre_register")
    reason = "的审计链，不是任用案件"
    rows = {
        "C-9": ("", "appointment"),
        REGISTER_CHAIN_ID: (f"干部名册及交流决定{reason}", "cadre_register"),
        "capability:2026-cap": (f"能力测试{reason}", "capability_campaign"),
        RETEST: (f"能力测试补测与组织处理{reason}", "capability_retest"),
        "double-evaluation:e1": (f"双重考核{reason}", "double_evaluation"),
        "removal:e1:p1": (f"双重考核降免职{reason}", "removal"),
        "rotation-batch:b1": (f"交流批次{reason}", "rotation_batch"),
    }
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        for case_id, (why, _) in rows.items():
            await conn.execute(
                "INSERT INTO cases (case_id, unit, post, method, stage, status, outcome_reason,"
                " opened_on, last_seq) VALUES ($1, '组织部', '—', 'regular_appointment',"
                " 'closed', 'withdrawn', $2, $3, 1)",
                case_id,
                why,
                date(2026, 11, 1),
            )
        await upgrade_to_head(url)
        found = dict(await conn.fetch("SELECT case_id, chain FROM cases"))
        refused = None
        try:
            await conn.execute("UPDATE cases SET chain = 'probation' WHERE case_id = 'C-9'")
        except asyncpg.CheckViolationError as exc:
            refused = exc
    finally:
        await conn.close()
    assert found == {case_id: kind for case_id, (_, kind) in rows.items()}
    assert refused is not None  # a word that names no kind
    assert set(ChainKind) == {kind for _, kind in rows.values()}
