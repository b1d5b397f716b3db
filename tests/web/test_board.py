"""The public notice board (公示栏) on the real stack: the time-skipping Temporal server, a
real worker and PostgreSQL, read and posted to through the ASGI app as a browser would.

Cases are driven with the workflow's own updates along two timelines: ``Timeline.current()``
puts the pre-appointment notice two working days before today (Beijing), so its period runs
today; ``PAST`` is the scenarios' timeline, whose notice ended on 2026-10-10.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.calendar import load_calendar
from api.app import create_app
from api.throttles import BOARD_POSTS_PER_ADDRESS
from settings import load_settings
from store.objection_models import Intake, commitment_holds, intake_of_case, text_digest
from tests.api.conftest import NoTemporal, client_for
from tests.workflows import scenarios
from tests.workflows.conftest import (
    TEST_SUPPLEMENT,
    CaseRunner,
    case_runner,
    start_time_skipping,
)
from web.board.cache import CACHE_SECONDS
from web.board.form import MAX_BODY_BYTES, TEXT_MAX
from web.board.state import board_state
from web.csrf import ANONYMOUS_COOKIE
from web.templating import beijing_today
from workflows.types import (
    FOUR_MUSTS,
    Candidate,
    CandidateStatus,
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    DemocraticEvaluationInput,
    DemocraticRecommendation,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Role,
    Sanction,
    SanctionKind,
    WithdrawInput,
)

# ============================================================ board-only fixtures and helpers

CALENDAR = load_calendar(TEST_SUPPLEMENT)

# Words of what the board must never show: each is written into the case somewhere private.
FINDING = "档案发现FINDING-7Q"  # inspection check findings
REPORT = "考察材料REPORT-7Q"  # inspection report summaries
RECOMMENDATION = "推荐情况RECOMMEND-7Q"  # the democratic recommendation's summary
RANK = "正科级RANK-7Q"  # current rank is not a published field
SANCTION_DAY = date(2019, 3, 5)  # an old sanction, outside its impact period
CONTACT = "13900007777"  # the objector's contact
OBJECTION_TEXT = "反映内容OBJECTION-7Q：该同志工作作风问题"

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
RECEIPT_NUMBER = re.compile(r"受理编号：<strong[^>]*>(board-[0-9a-f]+)</strong>")


@dataclass(frozen=True)
class Timeline:
    """The days of a case's outside events, each after the one before."""

    recommended: date
    opened: date
    investigation_notice: date
    inspection_start: date
    inspected: date  # checks and democratic evaluation
    reported: date
    concluded: date
    meeting: date
    notice: date

    @classmethod
    def current(cls) -> Timeline:
        """The notice published two working days before today: today is in its period of
        five working days, and no date lies in the future (the workflow refuses those)."""
        back = CALENDAR.working_days_before
        notice_day = back(beijing_today(), 2)
        meeting = back(notice_day, 1)
        concluded = back(meeting, 1)
        reported = back(concluded, 1)
        inspected = back(reported, 1)
        start = back(inspected, 1)
        investigation = back(start, 1)  # inspection may start 1-3 working days after it
        opened = investigation - timedelta(days=14)
        return cls(
            opened - timedelta(days=14),
            opened,
            investigation,
            start,
            inspected,
            reported,
            concluded,
            meeting,
            notice_day,
        )


PAST = Timeline(
    scenarios.RECOMMENDED,
    scenarios.OPENED,
    scenarios.INVESTIGATION_NOTICE,
    scenarios.INSPECTION_START,
    date(2026, 9, 10),
    scenarios.INSPECTION_DONE,
    date(2026, 9, 16),
    scenarios.MEETING_DAY,
    scenarios.NOTICE_DAY,
)


def case_on(t: Timeline, case_id: str, people: list[Any] | None = None) -> CaseInput:
    return scenarios.regular_case(
        case_id,
        people,
        opened_on=t.opened,
        recommendation=DemocraticRecommendation(
            held_on=t.recommended, participants=45, summary=RECOMMENDATION
        ),
    )


def full_person(pid: str, name: str) -> Candidate:
    """A person with every published field and private ones beside them."""
    return Candidate(
        person_id=pid,
        name=name,
        current_post="科长",
        sex="女",
        ethnicity="回族",
        birth_date=date(1981, 4, 12),
        party_member=True,
        education="大学本科",
        work_started_on=date(2003, 7, 1),
        current_rank=RANK,
        short_cv="2003.07 参加工作\n2018.03 任县环保局科长",
        sanctions=[Sanction(kind=SanctionKind.STATE_DEMERIT, decided_on=SANCTION_DAY)],
    )


@dataclass
class Board:
    http: httpx.AsyncClient
    runner: CaseRunner
    app: FastAPI

    async def investigation(self, case: CaseInput, t: Timeline) -> WorkflowHandle[Any, Any]:
        """A case on its investigation notice (inspection not concluded)."""
        r = self.runner
        h = await r.start(case)
        await r.update(
            h,
            "record_investigation_notice",
            InvestigationNoticeInput(actor=scenarios.CLERK, published_on=t.investigation_notice),
        )
        return h

    async def on_notice(self, case: CaseInput, t: Timeline) -> WorkflowHandle[Any, Any]:
        """A case whose first candidate passed the vote and is on the pre-appointment notice;
        the others were inspected and not proposed."""
        r = self.runner
        h = await self.investigation(case, t)
        team = InspectionTeamInput(
            actor=scenarios.CLERK,
            members=[scenarios.TEAM.name, "周干事"],
            started_on=t.inspection_start,
        )
        await r.update(h, "record_inspection_team", team)
        for c in case.candidates:
            pid = c.person_id
            for check in FOUR_MUSTS:
                done = InspectionCheckInput(
                    actor=scenarios.TEAM,
                    person_id=pid,
                    check=check,
                    completed_on=t.inspected,
                    finding=FINDING,
                )
                await r.update(h, "record_inspection_check", done)
            evaluation = DemocraticEvaluationInput(
                actor=scenarios.TEAM,
                person_id=pid,
                held_on=t.inspected,
                participants=40,
                excellent=31,
                competent=7,
                basically_competent=2,
                incompetent=0,
            )
            await r.update(h, "record_democratic_evaluation", evaluation)
            report = InspectionReportInput(
                actor=scenarios.TEAM, person_id=pid, submitted_on=t.reported, summary=REPORT
            )
            await r.update(h, "record_inspection_report", report)
        first = case.candidates[0].person_id
        conclusion = InspectionConclusionInput(
            actor=scenarios.CLERK, concluded_on=t.concluded, proposed=[first]
        )
        await r.update(h, "conclude_inspection", conclusion)
        await r.update(
            h, "record_vote", scenarios.vote([scenarios.agree(first)], held_on=t.meeting)
        )
        await r.update(h, "record_public_notice", scenarios.notice(published_on=t.notice))
        return h

    async def state(self, h: WorkflowHandle[Any, Any]) -> CaseState:
        return await self.runner.state(h)

    async def token(self, case_id: str) -> str:
        """Open the notice page as a browser does: it sets the CSRF cookie and the field."""
        page = await self.http.get(f"/board/notices/{case_id}")
        assert page.status_code == 200, page.text
        found = CSRF_FIELD.search(page.text)
        assert found, page.text
        return found.group(1)

    async def object(
        self, case_id: str, cookie: str | None = None, **fields: str
    ) -> httpx.Response:
        """Post the form; ``cookie`` stands for a CSRF cookie the browser already holds."""
        headers = {"Cookie": f"{ANONYMOUS_COOKIE}={cookie}"} if cookie else None
        return await self.http.post(
            f"/board/notices/{case_id}/objections", data=fields, headers=headers
        )

    async def intake(self, case_id: str) -> list[Intake]:
        async with self.runner.sessions() as s:
            return await intake_of_case(s, case_id)

    async def board_events(self, case_id: str) -> list[Any]:
        """What the board wrote into the case's history in PostgreSQL."""
        return [e for e in await self.runner.events(case_id) if e.actor_name == "公示栏"]


@pytest.fixture
async def board(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[Board]:
    """The service's app on a time-skipping server of its own, with a worker of its own."""
    env = await start_time_skipping()
    try:
        async with case_runner(env, session_factory) as runner:
            settings = load_settings({"TASK_QUEUE": runner.task_queue})
            app = create_app(settings, env.client, session_factory)
            async with client_for(app) as http:
                yield Board(http, runner, app)
    finally:
        await env.shutdown()


def assert_public_only(page: str) -> None:
    """Nothing but published fields: no trace of the inspection, the vote, the sanctions,
    the rank, or any objection."""
    for private in (
        FINDING,
        REPORT,
        RECOMMENDATION,
        RANK,
        SANCTION_DAY.isoformat(),
        "记过",
        "state_demerit",
        "测评",
        "票",
        CONTACT,
        OBJECTION_TEXT,
        "/console",
    ):
        assert private not in page, private


# ============================================================ tests


async def test_the_board_lists_the_notices_before_the_public_today(board: Board) -> None:
    now = Timeline.current()
    ids = {k: f"B-{k}-{board.runner.task_queue}" for k in ("now", "insp", "past", "gone")}
    on_notice = await board.on_notice(case_on(now, ids["now"]), now)
    await board.investigation(
        case_on(now, ids["insp"], [scenarios.person("p1", "王五"), scenarios.person("p2", "赵六")]),
        now,
    )
    ended = await board.on_notice(case_on(PAST, ids["past"]), PAST)
    withdrawn = await board.on_notice(case_on(now, ids["gone"]), now)
    assert (await board.state(on_notice)).stage is CaseStage.PUBLIC_NOTICE
    assert (await board.state(ended)).dates["notice_ends"] == scenarios.NOTICE_ENDS

    page = await board.http.get("/board/")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'class="public"' in html and "Content-Security-Policy" in page.headers
    pre, investigation = html.split("<h2>考察预告</h2>")
    assert f"/board/notices/{ids['now']}" in pre and f"/board/notices/{ids['gone']}" in pre
    assert "县环保局" in pre and "副局长" in pre and "张三" in pre
    assert f"{now.notice.isoformat()} 至 " in pre
    ends = (await board.state(on_notice)).dates["notice_ends"]
    assert ends >= beijing_today() and ends.isoformat() in pre
    assert "李四" not in pre  # inspected but not proposed: not on the notice
    assert f"/board/notices/{ids['insp']}" in investigation
    assert "王五、赵六" in investigation and now.investigation_notice.isoformat() in investigation
    assert ids["past"] not in html  # its notice ended on 2026-10-10
    assert_public_only(html)

    # Withdrawn: gone from the board once the cache (CACHE_SECONDS) has expired.
    await board.runner.update(
        withdrawn, "withdraw", WithdrawInput(actor=scenarios.HEAD, reason="职位撤销")
    )
    assert (await board.state(withdrawn)).status is CaseStatus.WITHDRAWN
    cached = await board.http.get("/board/")
    assert ids["gone"] in cached.text  # served from the cache: Temporal not asked again
    cache = board_state(board.app).cache
    started = cache.clock()
    cache.clock = lambda: started + CACHE_SECONDS + 1
    fresh = await board.http.get("/board/")
    assert ids["gone"] not in fresh.text and ids["now"] in fresh.text
    assert (await board.http.get(f"/board/notices/{ids['gone']}")).status_code == 404


async def test_a_notice_shows_the_published_fields_and_nothing_private(
    board: Board, new_case_id: str
) -> None:
    now = Timeline.current()
    case = case_on(now, new_case_id, [full_person("p1", "张三"), scenarios.person("p2", "李四")])
    await board.on_notice(case, now)

    page = await board.http.get(f"/board/notices/{new_case_id}")
    assert page.status_code == 200, page.text
    html = page.text
    for shown in (
        "任前公示",
        "张三",
        "女",
        "回族",
        "1981年4月",
        "大学本科",
        "2003年7月",
        "科长",
        "2018.03 任县环保局科长",
        "县环保局副局长",
        "公示期",
    ):
        assert shown in html, shown
    assert "李四" not in html  # not proposed, so not published
    assert_public_only(html)
    # the objection form: one person to choose, the text's limit, CSRF field and cookie
    assert '<form class="objection"' in html
    assert re.findall(r'<option value="(p\d)"', html) == ["p1"]
    assert f'maxlength="{TEXT_MAX}"' in html
    assert CSRF_FIELD.search(html) and ANONYMOUS_COOKIE in page.headers["set-cookie"]
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    assert page.headers["cache-control"] == "no-store"

    for missing in ("NO-SUCH-CASE", "bad%20id", "x" * 80):
        absent = await board.http.get(f"/board/notices/{missing}")
        assert absent.status_code == 404 and "没有找到这份公示" in absent.text


async def test_an_investigation_notice_says_how_to_report(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    await board.investigation(case_on(now, new_case_id), now)
    page = await board.http.get(f"/board/notices/{new_case_id}")
    assert page.status_code == 200, page.text
    assert "考察预告" in page.text and "张三" in page.text and "李四" in page.text
    assert "<form" not in page.text
    assert "只在任前公示期间" in page.text and "来信、来电、来访" in page.text
    # a post anyway is refused by the case, which takes objections only during the notice
    refused = await board.object(
        new_case_id, cookie="t0ken", csrf="t0ken", person_id="p1", text="意见", anonymous="1"
    )
    assert refused.status_code == 409, refused.text
    assert "考察预告阶段" in refused.text
    assert (
        f"案件 {new_case_id} 正处于「差额考察」环节；此项办理属于「任前公示」或「任职」环节"
        in refused.text
    )
    assert await board.board_events(new_case_id) == []


async def test_an_objection_is_filed_into_the_case(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    people = [full_person("p1", "张三"), scenarios.person("p2", "李四")]
    handle = await board.on_notice(case_on(now, new_case_id, people), now)
    token = await board.token(new_case_id)
    receipt = await board.object(
        new_case_id,
        csrf=token,
        person_id="p1",
        text=OBJECTION_TEXT,
        anonymous="0",
        name="刘群众",
        contact=CONTACT,
    )
    assert receipt.status_code == 200, receipt.text
    number = RECEIPT_NUMBER.search(receipt.text)
    assert number, receipt.text
    objection_id = number.group(1)
    assert "反映已受理" in receipt.text and CONTACT not in receipt.text
    assert beijing_today().isoformat() in receipt.text

    state = await board.state(handle)
    assert state.stage is CaseStage.PUBLIC_NOTICE
    [filed] = state.objections
    assert (filed.objection_id, filed.person_id, filed.anonymous) == (objection_id, "p1", False)
    assert filed.received_on == beijing_today()

    [event] = await board.board_events(new_case_id)
    assert event.actor_role is Role.SYSTEM and event.kind == "input"
    assert objection_id in event.summary and "张三" in event.summary
    assert event.payload["anonymous"] is False and event.payload["objection_id"] == objection_id
    # the case holds the receipt and the text's sha256; the text, the name and the contact
    # stay in the intake, out of Temporal's history and the hash-chained log
    [intake] = await board.intake(new_case_id)
    assert (intake.receipt, intake.text, intake.name) == (objection_id, OBJECTION_TEXT, "刘群众")
    assert intake.contact == CONTACT and intake.delivered and intake.copies == 1
    # the event commits to the row: recomputed from the intake, it matches; a changed
    # contact would not; and the text's own digest is not in the log to be confirmed
    assert intake.commitment in event.payload["summary"] and commitment_holds(intake)
    assert not commitment_holds(dataclasses.replace(intake, contact="13900000000"))
    assert text_digest(OBJECTION_TEXT) not in json.dumps(event.payload)
    written = json.dumps(
        [e.payload for e in await board.runner.events(new_case_id)], ensure_ascii=False
    )
    history = json.dumps((await handle.fetch_history()).to_json_dict(), ensure_ascii=False)
    for private in (OBJECTION_TEXT, "刘群众", CONTACT):
        assert private not in written and private not in history, private

    # the objection's text and the objector's name and contact appear on no public page
    for path in ("/board/", f"/board/notices/{new_case_id}"):
        page = await board.http.get(path)
        assert page.status_code == 200
        assert_public_only(page.text)
        assert "刘群众" not in page.text


async def test_an_anonymous_objection(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    handle = await board.on_notice(case_on(now, new_case_id), now)
    token = await board.token(new_case_id)
    receipt = await board.object(
        new_case_id, csrf=token, person_id="p1", text="不署名的反映", anonymous="1", name="某某"
    )
    assert receipt.status_code == 200, receipt.text
    assert "匿名反映" in receipt.text
    [filed] = (await board.state(handle)).objections
    assert filed.anonymous is True
    [event] = await board.board_events(new_case_id)
    assert event.payload["anonymous"] is True and "某某" not in event.payload["summary"]
    [intake] = await board.intake(new_case_id)
    assert intake.anonymous and intake.name == ""  # a name typed beside "anonymous" is dropped


async def test_an_objection_after_the_notice_ended_is_refused(
    board: Board, new_case_id: str
) -> None:
    handle = await board.on_notice(case_on(PAST, new_case_id), PAST)
    assert (await board.http.get(f"/board/notices/{new_case_id}")).status_code == 404
    refused = await board.object(
        new_case_id,
        cookie="a-token-of-this-browser",
        csrf="a-token-of-this-browser",
        person_id="p1",
        text="公示结束后的反映",
        anonymous="1",
    )
    assert refused.status_code == 409, refused.text
    html = refused.text
    assert "未能受理" in html and "不在公示期内" in html
    start, end, today = scenarios.NOTICE_DAY, scenarios.NOTICE_ENDS, beijing_today()
    assert f"公示期为 {start} 至 {end}" in html  # explained in Chinese, beside ...
    sentence = f"公示期间（{start} 至 {end}）受理反映；此件收到于 {today}"
    assert sentence in html  # ... the case's own words
    source = "《党政领导干部选拔任用工作条例》关于任前公示的规定：公示期间反映的问题应当核查"
    assert f"<br>依据：{source}" in html  # the rule's source
    state = await board.state(handle)
    assert state.objections == []
    assert state.candidates[0].status is CandidateStatus.TO_APPOINT
    assert await board.board_events(new_case_id) == []


async def test_a_post_without_the_csrf_token_is_403(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    handle = await board.on_notice(case_on(now, new_case_id), now)
    fields = {"person_id": "p1", "text": "伪造的提交", "anonymous": "1"}
    without = await board.object(new_case_id, **fields)  # no cookie, no field
    assert without.status_code == 403 and "页面已过期" in without.text
    token = await board.token(new_case_id)  # the cookie is set now
    assert (await board.object(new_case_id, **fields)).status_code == 403  # no field
    assert (await board.object(new_case_id, csrf=token + "x", **fields)).status_code == 403
    board.http.cookies.clear()
    assert (await board.object(new_case_id, csrf=token, **fields)).status_code == 403
    assert (await board.state(handle)).objections == []
    assert await board.board_events(new_case_id) == []


async def test_oversized_bodies_and_fields_are_refused(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    handle = await board.on_notice(case_on(now, new_case_id), now)
    token = await board.token(new_case_id)
    url = f"/board/notices/{new_case_id}/objections"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    big = f"csrf={token}&person_id=p1&anonymous=1&text=".encode() + b"x" * MAX_BODY_BYTES

    declared = await board.http.post(url, content=big, headers=form)
    assert declared.status_code == 413 and "过长" in declared.text

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the read is capped
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = await board.http.post(url, content=chunks(), headers=form)
    assert streamed.status_code == 413

    too_long = await board.object(
        new_case_id, csrf=token, person_id="p1", anonymous="1", text="长" * (TEXT_MAX + 1)
    )
    assert too_long.status_code == 422
    assert f"反映内容最多 {TEXT_MAX} 字，现在是 {TEXT_MAX + 1} 字" in too_long.text
    unnamed = await board.object(
        new_case_id, csrf=token, person_id="p1", text="意见", anonymous="0"
    )
    assert unnamed.status_code == 422 and "署名反映请填写姓名" in unnamed.text
    assert (await board.state(handle)).objections == []
    assert await board.board_events(new_case_id) == []


async def test_too_many_posts_from_one_address_are_429(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    # The limit is checked before anything else: no Temporal needed (any use would fail).
    app = create_app(load_settings({}), NoTemporal(), session_factory)  # type: ignore[arg-type]
    url = "/board/notices/NO-SUCH-CASE/objections"
    limit = BOARD_POSTS_PER_ADDRESS
    async with client_for(app) as http:
        for _ in range(limit.times):
            assert (await http.post(url, data={"text": "x"})).status_code == 403
        limited = await http.post(url, data={"text": "x"})
        assert limited.status_code == 429
        assert "提交过于频繁" in limited.text and f"最多提交 {limit.times} 次" in limited.text
        retry = int(limited.headers["retry-after"])
        assert 0 < retry <= limit.seconds
        assert (await http.get("/board/notices/NO-SUCH-CASE")).status_code == 404  # pages stay
        other = httpx.ASGITransport(app=app, client=("192.0.2.7", 4000))
        async with httpx.AsyncClient(transport=other, base_url="http://api") as elsewhere:
            assert (await elsewhere.post(url, data={"text": "x"})).status_code == 403
        limiter = board_state(app).limiter
        started = limiter.clock()
        limiter.clock = lambda: started + limit.seconds + 1  # the window slid on
        assert (await http.post(url, data={"text": "x"})).status_code == 403


async def test_everything_shown_is_escaped(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    name = "<script>alert(1)</script>王五"
    await board.on_notice(
        case_on(now, new_case_id, [scenarios.person("p1", name), scenarios.person("p2", "李四")]),
        now,
    )
    for path in ("/board/", f"/board/notices/{new_case_id}"):
        page = await board.http.get(path)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;王五" in page.text
        assert "<script" not in page.text
    token = await board.token(new_case_id)
    text = '<script>alert(2)</script>"><img src=x onerror=alert(3)>'
    unchosen = await board.object(new_case_id, csrf=token, text=text, anonymous="1")
    assert unchosen.status_code == 422 and "请选择反映对象" in unchosen.text
    receipt = await board.object(new_case_id, csrf=token, person_id="p1", text=text, anonymous="1")
    assert receipt.status_code == 200, receipt.text
    for html in (unchosen.text, receipt.text):
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
        assert "<script" not in html and "<img" not in html


async def test_temporal_out_of_reach_is_a_polite_503(board: Board, new_case_id: str) -> None:
    now = Timeline.current()
    await board.investigation(case_on(now, new_case_id), now)
    # Port 1 refuses connections; a lazy client fails on first use, as a lost server does.
    dead = await Client.connect("127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter)
    app = create_app(load_settings({}), dead, board.runner.sessions)
    async with client_for(app) as http:
        responses = [
            await http.get("/board/"),
            await http.get(f"/board/notices/{new_case_id}"),
            await http.post(
                f"/board/notices/{new_case_id}/objections",
                data={"csrf": "t0ken", "person_id": "p1", "text": "意见", "anonymous": "1"},
                headers={"Cookie": f"{ANONYMOUS_COOKIE}=t0ken"},
            ),
        ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert "暂时无法显示" in response.text and "retry-after" in response.headers
    assert await board.board_events(new_case_id) == []
