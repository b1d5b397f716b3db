"""Importing the register from ``.xlsx`` sheets with Chinese headers on the real PostgreSQL:
versions with who, when and why; a sheet with any bad row refused row by row, writing
nothing; every change in the hash-chained log, which ``audit verify`` passes, signed, and
whose dossier verifies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import dossier as dossiers
from audit.checkpoints import create_checkpoint
from audit.dossier.verify import verify_dossier_data
from audit.keys import load_private_key, load_public_key, write_keypair
from audit.verify import verify_log
from sheets.problems import SheetProblems
from store.models import CaseEvent
from store.register import RegisterRefused, import_xlsx
from store.register_audit import REGISTER_CHAIN_ID
from store.register_models import RegisterVersionRow
from store.register_queries import (
    candidate_from_register,
    current_version,
    list_register,
    person_history,
)
from tests.register.conftest import CLERK, workbook
from workflows.register_types import AssessmentGrade, AssessmentKind, RegisterSection
from workflows.types import SanctionKind

PEOPLE_HEADER = ["序号", "人员编号", "姓名", "性别", "民族", "出生日期", "中共党员", "学历"]
PEOPLE: list[list[object]] = [
    [1, "R001", "李四", "男", "汉族", "1985-04-02", "是", "大学"],
    [2, "R002", "王五", "女", "瑶族", "1990/7/15", "是", "研究生"],
]
POSTS_HEADER = [
    "人员编号",
    "姓名",
    "单位",
    "所在乡镇",
    "职务",
    "职级",
    "领导职务",
    "任职日期",
    "免职日期",
]
POSTS: list[list[object]] = [
    [
        "R001",
        "李四",
        "城关镇人民政府",
        "城关镇",
        "党政办主任",
        "一级主任科员",
        "否",
        "2015-03-01",
        "2024-06-30",
    ],
    ["R001", "李四", "县发展和改革局", None, "副局长", "副科级", "是", "2024-07-01", None],
    ["R002", "王五", "樟市镇人民政府", "樟市镇", "科员", "科员", "否", "2016-09-01", None],
]


async def _count(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as s:
        versions = await s.scalar(select(func.count()).select_from(RegisterVersionRow))
        events = await s.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == REGISTER_CHAIN_ID)
        )
    return versions or 0, events or 0


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    await import_xlsx(
        sessions, "register-people", workbook(PEOPLE_HEADER, PEOPLE), CLERK, "2026 年名册导入"
    )
    await import_xlsx(
        sessions, "register-posts", workbook(POSTS_HEADER, POSTS), CLERK, "2026 年名册导入"
    )


async def test_an_import_writes_a_version_per_change_with_who_and_why(
    own_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(own_sessions)
    async with own_sessions() as s:
        history = await person_history(s, "R001")
        assert [(v.version, v.sections) for v in history] == [
            (1, [RegisterSection.PERSON]),
            (2, [RegisterSection.POSTS]),
        ]
        assert {(v.changed_by, v.changed_role, v.reason) for v in history} == {
            ("王科员", "clerk", "2026 年名册导入")
        }
        newest = history[-1].record
        assert newest.person.birth_date == date(1985, 4, 2) and newest.person.party_member
        assert [p.township for p in newest.posts] == ["城关镇", None]
        wang = await current_version(s, "R002")
        assert wang is not None and wang.record.person.birth_date == date(1990, 7, 15)
        assert [v.person_id for v in await list_register(s, "王")] == ["R002"]
        assert [v.person_id for v in await list_register(s, "R001")] == ["R001"]
    assert await _count(own_sessions) == (4, 4)
    # the same sheet again changes nothing
    outcome = await import_xlsx(
        own_sessions, "register-posts", workbook(POSTS_HEADER, POSTS), CLERK, "再次导入"
    )
    assert outcome.changed == [] and sorted(outcome.unchanged) == ["R001", "R002"]
    assert await _count(own_sessions) == (4, 4)


async def test_sanctions_and_assessments_reach_the_candidates_facts(
    own_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(own_sessions)
    await import_xlsx(
        own_sessions,
        "register-sanctions",
        workbook(["人员编号", "处分"], [["R001", "党内警告:2025-03-01"]]),
        CLERK,
        "纪委通报",
    )
    await import_xlsx(
        own_sessions,
        "register-assessments",
        workbook(
            ["人员编号", "类别", "日期", "结果", "分数"],
            [
                ["R001", "能力测试", "2025-11-01", "合格", 82],
                ["R001", "年度考核", "2025-12-31", "优秀", None],
            ],
        ),
        CLERK,
        "测试成绩",
    )
    async with own_sessions() as s:
        found = await candidate_from_register(s, "R001", date(2025, 3, 1))
        v = await current_version(s, "R001")
    assert found is not None and v is not None
    assert found.version == 4 == v.version
    assert [x.kind for x in found.candidate.sanctions] == [SanctionKind.PARTY_WARNING]
    assert found.candidate.current_post == "县发展和改革局副局长"
    assert [(a.kind, a.grade, a.score) for a in v.record.assessments] == [
        (AssessmentKind.CAPABILITY_TEST, AssessmentGrade.PASSED, 82),
        (AssessmentKind.ANNUAL, AssessmentGrade.EXCELLENT, None),
    ]


async def test_a_sheet_with_bad_rows_is_refused_row_by_row_and_writes_nothing(
    own_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(own_sessions)
    before = await _count(own_sessions)
    bad: list[list[object]] = [
        [
            "R001",
            "李四",
            "城关镇人民政府",
            "城关镇",
            "主任",
            "科员",
            "否",
            "2015-03-01",
            "2014-01-01",
        ],
        ["R009", "赵六", "樟市镇人民政府", "樟市镇", "科员", "科员", "否", "2016-09-01", None],
        ["R002", "王五", "樟市镇人民政府", "樟市镇", "科员", "科员", "也许", "2016-13-01", None],
        [
            "R002",
            "王五",
            "樟市镇人民政府",
            "樟市镇",
            "科员",
            "科员",
            "否",
            "2010-01-01",
            "2016-08-31",
        ],
    ]
    with pytest.raises(SheetProblems) as refused:
        await import_xlsx(
            own_sessions, "register-posts", workbook(POSTS_HEADER, bad), CLERK, "更正"
        )
    problems = refused.value.problems
    assert any(
        p.startswith("第 2 行") and "免职日期 2014-01-01 早于任职日期" in p for p in problems
    )
    assert any(p.startswith("第 4 行「领导职务」") for p in problems)
    assert any(p.startswith("第 4 行「任职日期」") for p in problems)
    assert await _count(own_sessions) == before
    # the rows are good now, but one names a person the register does not have
    with pytest.raises(SheetProblems) as unknown:
        await import_xlsx(
            own_sessions,
            "register-posts",
            workbook(POSTS_HEADER, bad[1:2] + bad[3:]),
            CLERK,
            "更正",
        )
    assert unknown.value.problems == [
        "第 2 行「人员编号」：R009 不在干部名册中：请先导入其基本信息"
    ]
    assert await _count(own_sessions) == before
    with pytest.raises(SheetProblems, match="第 1 行「籍贯」：不是可识别的列"):
        await import_xlsx(
            own_sessions,
            "register-people",
            workbook(["人员编号", "姓名", "籍贯"], [["R3", "甲", "湖南"]]),
            CLERK,
            "x",
        )
    with pytest.raises(RegisterRefused, match="请说明变更的理由"):
        await import_xlsx(
            own_sessions, "register-people", workbook(PEOPLE_HEADER, PEOPLE), CLERK, " "
        )
    with pytest.raises(RegisterRefused, match="没有干部名册的表 candidates"):
        await import_xlsx(own_sessions, "candidates", workbook(PEOPLE_HEADER, PEOPLE), CLERK, "x")
    assert await _count(own_sessions) == before


async def test_versions_are_never_changed_in_place(
    own_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(own_sessions)
    async with own_sessions() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(
                text("UPDATE register_versions SET name = '改名' WHERE person_id = 'R001'")
            )


async def test_audit_verify_passes_over_the_registers_chain_and_its_dossier_verifies(
    own_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    private_path, public_path, _ = write_keypair(tmp_path / "signing.pem")
    private, public = load_private_key(private_path), load_public_key(public_path)
    await _seed(own_sessions)
    async with own_sessions() as s:
        await create_checkpoint(s, private, copies=None)
    await import_xlsx(
        own_sessions,
        "register-people",
        workbook(PEOPLE_HEADER, [[1, "R001", "李四", "男", "汉族", "1985-04-02", "是", "研究生"]]),
        CLERK,
        "学历更正",
    )
    async with own_sessions() as s:
        await create_checkpoint(s, private, copies=None)
    async with own_sessions() as s:
        report = await verify_log(s, public)
    assert report.ok, report.faults
    assert report.events == 5 and report.cases == 1
    async with own_sessions() as s:
        built = await dossiers.build_dossier(s, REGISTER_CHAIN_ID)
    assert built is not None
    assert [e["kind"] for e in built["events"]] == ["register_changed"] * 5
    assert built["events"][-1]["payload"]["record"]["person"]["education"] == "研究生"
    assert verify_dossier_data(built, public, "json").ok
