"""The console's data entry without CSV, on the real stack (the Temporal dev server, a real
worker, PostgreSQL): the new-case form asks only what the chosen selection method needs; an
exam case is started from its form and its applicants and written-test scores come from a
department's ``.xlsx`` with Chinese headers; a bad spreadsheet is told row by row and
records nothing; the tables grow a row at a time without a script; the templates download.
"""

from __future__ import annotations

import io

import httpx
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sheets.columns import APPLICANTS
from sheets.xlsx import CONTENT_TYPE
from tests.api.conftest import live  # noqa: F401  (fixture)
from tests.register.people import add_person, new_register_id
from tests.sheet_files import applicants_xlsx, scores_xlsx
from tests.web.console_fixtures import Person, make_person, sign_in
from tests.web.test_console_cases import app_of, inputs
from tests.workflows.conftest import CaseRunner
from workflows.ids import case_workflow_id
from workflows.types import CandidateStatus, CaseStage, Role

Live = tuple[httpx.AsyncClient, CaseRunner]
EXAM_FORM = "/console/cases/new?method=open_selection"


async def send_with_file(
    person: Person, path: str, data: dict[str, str], table: str, content: bytes
) -> httpx.Response:
    """A form sent as a browser sends one with a file chosen: multipart, its CSRF token."""
    await person.get(path)
    return await person.http.post(
        path,
        data={"csrf": person.csrf, **data},
        files={f"_sheet.{table}": ("报名人员.xlsx", content, CONTENT_TYPE)},
    )


async def test_the_new_case_form_asks_only_what_the_method_needs(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = app_of(live)
    name = await make_person(session_factory, Role.CLERK)
    async with await sign_in(app, name, Role.CLERK) as clerk:
        choice = await clerk.get("/console/cases/new")
        for method in ("open_selection", "competitive_appointment", "regular_appointment"):
            assert f'href="/console/cases/new?method={method}"' in choice
        exam = await clerk.get(EXAM_FORM)
        regular = await clerk.get("/console/cases/new?method=regular_appointment")
        await clerk.get("/console/cases/new?method=lottery", expect=422)
    # an exam's candidates come from its registration: no recommendation, no candidates
    assert "案件编号" in exam and 'name="recommendation.held_on"' not in exam
    assert 'name="candidates.0.name"' not in exam and 'name="method"' not in exam
    # a regular appointment's come from the recommendation: both asked, in a table of rows
    assert 'name="recommendation.held_on"' in regular and "required" in regular
    assert 'name="candidates.0.name"' in regular and 'name="candidates.2.birth_date"' in regular
    assert 'enctype="multipart/form-data"' in regular and 'name="_sheet.candidates"' in regular
    assert "人员编号 *</th>" in regular and ">出生日期</th>" in regular  # Chinese headers
    assert ">person_id" not in regular and "candidate.name" not in regular


async def test_an_exam_case_runs_on_a_departments_spreadsheets(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    name = await make_person(session_factory, Role.CLERK)
    handle = runner.env.client.get_workflow_handle(case_workflow_id(new_case_id))
    runner.started.append(handle)
    async with await sign_in(app, name, Role.CLERK) as clerk:
        await clerk.get(EXAM_FORM)
        started = await clerk.post(
            EXAM_FORM,
            {
                "case_id": new_case_id,
                "unit": "县环保局",
                "post": "副局长",
                "positions": "1",
                "opened_on": "2026-08-24",
                "probation_required": "on",
            },
        )
        assert started.status_code == 303, started.text[:3000]
        assert started.headers["location"] == f"/console/cases/{new_case_id}"
        state = await runner.state(handle)
        assert state.stage is CaseStage.EXAM and state.candidates == []

        register = f"/console/cases/{new_case_id}/steps/record_registration"
        dates = {"announced_on": "2026-08-25", "closed_on": "2026-09-04"}
        # a bad spreadsheet: every bad cell by its row and header, nothing recorded
        before = await inputs(runner, new_case_id)
        bad = applicants_xlsx(**{"3": {"出生日期": "1985-02-30", "资格审查结果": "待定"}})
        refused = await send_with_file(clerk, register, dates, "applicants", bad)
        assert refused.status_code == 422
        wrong_date = "报名人员（Excel 文件）第 4 行「出生日期」：格式不对，应为 YYYY-MM-DD"
        assert wrong_date in refused.text
        assert "报名人员（Excel 文件）第 4 行「资格审查通过」：应填 是 或 否" in refused.text
        assert 'value="2026-08-25"' in refused.text  # what was typed is kept
        assert await inputs(runner, new_case_id) == before
        assert (await runner.state(handle)).candidates == []

        # the department's own spreadsheet: the applicants are registered
        done = await send_with_file(clerk, register, dates, "applicants", applicants_xlsx())
        assert done.status_code == 303, done.text[:3000]
        state = await runner.state(handle)
        by_id = {c.person_id: c for c in state.candidates}
        assert len(by_id) == 6 and by_id["P-17003"].name == "王海涛"
        assert by_id["P-17004"].status is CandidateStatus.NOT_QUALIFIED

        # the written test's scores under 笔试成绩, with the names beside
        written = f"/console/cases/{new_case_id}/steps/record_written_test"
        form = await clerk.get(written)
        assert 'name="scores.5.person_id"' in form  # a row for each person, chosen
        # as the browser sends it: each row's person chosen, no score typed (empty rows)
        chosen = {f"scores.{i}.person_id": c.person_id for i, c in enumerate(state.candidates)}
        scored = await send_with_file(
            clerk,
            written,
            {"held_on": "2026-09-12", **chosen},
            "scores",
            scores_xlsx("written.csv", "笔试成绩"),
        )
        assert scored.status_code == 303, scored.text[:3000]
        state = await runner.state(handle)
        assert {c.person_id: c.written_score for c in state.candidates}["P-17003"] == 86.5
        page = await clerk.get(f"/console/cases/{new_case_id}?done=record_written_test")
        assert "已记录：笔试成绩" in page


async def test_a_table_grows_without_a_script_and_records_nothing_meanwhile(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = app_of(live)
    name = await make_person(session_factory, Role.CLERK)
    async with await sign_in(app, name, Role.CLERK) as clerk:
        form = await clerk.get("/console/cases/new?method=regular_appointment")
        assert 'name="candidates.3.name"' not in form and 'name="_add" value="candidates"' in form
        grown = await clerk.post(
            "/console/cases/new?method=regular_appointment",
            {
                "case_id": "T-not-started",
                "candidates.0.name": "张三",
                "_rows.candidates": "3",
                "_add": "candidates",
            },
        )
        assert grown.status_code == 200
        assert 'name="candidates.7.name"' in grown.text and 'value="张三"' in grown.text
        # the template of each list, with its Chinese headers
        response = await clerk.http.get("/console/sheets/applicants.xlsx")
        assert response.status_code == 200
        assert response.headers["content-type"] == CONTENT_TYPE
        book = load_workbook(io.BytesIO(response.content))
        assert [c.value for c in book.worksheets[0][1]] == [c.header for c in APPLICANTS.columns]
        assert (await clerk.http.get("/console/sheets/nothing.xlsx")).status_code == 404


async def test_a_case_from_the_register_through_the_new_case_form(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    """A candidate named by register id: the facts come from the register (the row's empty
    cells, as a browser sends them, are not facts typed in); a typed fact the register says
    otherwise is told in Chinese and starts nothing; the case page names the version."""
    app = app_of(live)
    rid = new_register_id()
    await add_person(session_factory, rid, "卫名册")
    name = await make_person(session_factory, Role.CLERK)
    form = {
        "case_id": new_case_id,
        "unit": "县环保局",
        "post": "副局长",
        "positions": "1",
        "opened_on": "2026-08-03",
        "recommendation.held_on": "2026-07-20",
        "recommendation.participants": "45",
        "candidates.0.register_id": rid,
        "candidates.0.name": "卫名册",
        "candidates.0.person_id": "",
        "candidates.0.birth_date": "",
        "candidates.0.sanctions": "",
        "candidates.0.education": "",
    }
    async with await sign_in(app, name, Role.CLERK) as clerk:
        address = "/console/cases/new?method=regular_appointment"
        refused = await clerk.post(address, {**form, "candidates.0.birth_date": "1990-01-01"})
        assert refused.status_code == 422, refused.text[:2000]
        assert f"人选 卫名册（{rid}）的「出生日期」与干部名册第 2 版不符" in refused.text
        started = await clerk.post(address, form)
        assert started.status_code == 303, started.text[:3000]
        page = await clerk.get(f"/console/cases/{new_case_id}")
        assert f"干部名册 {rid} 第 2 版" in page
        assert f"人选信息取自干部名册：卫名册（{rid}）第 2 版" in page
