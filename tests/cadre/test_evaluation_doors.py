"""A double evaluation through the console on the time-skipping server: both tallies imported
(a bad row first, which starts nothing), the ranking and the proposals previewed, then
started; the proposed leader's removal case voted from its form (a clerk refused by the
policy, 403 in Chinese; the committee secretary recorded); the ranking as CSV."""

from __future__ import annotations

import re
import uuid
from html import unescape

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cadre_calls import evaluation
from api.deps import Services
from tests.cadre.conftest import Stack, csv_file, settle
from tests.sheet_files import FIXTURES
from tests.web.console_fixtures import Person, make_person, sign_in
from workflows.cadre_enums import RemovalStatus
from workflows.double_evaluation_types import RemovalState
from workflows.types import Role

OWN_HEADER = ["人员编号", "参加测评人数", "优秀票", "称职票", "基本称职票", "不称职票"]


async def _preview(
    person: Person, evaluation_id: str, unified: bytes, own: bytes, on: str
) -> httpx.Response:
    if not person.csrf:
        await person.get("/console/evaluation")
    return await person.http.post(
        "/console/evaluation/preview",
        data={
            "csrf": person.csrf,
            "evaluation_id": evaluation_id,
            "title": "2026 年度县直单位双重考核",
            "held_on": on,
            "measure": "demotion",
        },
        files={"unified": ("统一.csv", unified), "own": ("本单位.csv", own)},
    )


async def test_an_evaluation_through_the_console(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    evaluation_id = f"E{uuid.uuid4().hex[:8]}"
    today = (await stack.today()).isoformat()
    unified = (FIXTURES / "evaluation_unified.csv").read_bytes()
    own = (FIXTURES / "evaluation_own.csv").read_bytes()
    clerk = await sign_in(stack.app, await make_person(session_factory, Role.CLERK), Role.CLERK)
    secretary_name = await make_person(session_factory, Role.COMMITTEE_SECRETARY)
    secretary = await sign_in(stack.app, secretary_name, Role.COMMITTEE_SECRETARY)
    async with clerk, secretary:
        # more votes than voters in one own-unit row, a leader missing from it: nothing starts
        bad_own = csv_file(OWN_HEADER, [["L1", 50, 30, 30, 0, 0], ["L2", 50, 15, 30, 0, 5]])
        refused = await _preview(clerk, evaluation_id, unified, bad_own, today)
        assert refused.status_code == 422, refused.text[:2000]
        text = unescape(refused.text)
        assert "双重考核·本单位民主测评：第 2 行：" in text and "多于参加测评人数 50 人" in text
        assert "L3 在本单位民主测评表中没有结果" in text
        # the committee secretary may read, not import
        assert (await secretary.http.get("/console/evaluation")).status_code == 200
        await secretary.get("/console/evaluation")
        no = await secretary.http.post("/console/evaluation/preview", data={"csrf": secretary.csrf})
        assert no.status_code == 403

        preview = await _preview(clerk, evaluation_id, unified, own, today)
        assert preview.status_code == 200, preview.text[:2000]
        assert "建议降免职 1 人" in preview.text and "乙局长" in preview.text
        assert evaluation_id not in await clerk.get("/console/evaluation")  # not yet started
        data = unescape(re.search(r'name="data" value="([^"]+)"', preview.text).group(1))  # type: ignore[union-attr]
        started = await clerk.http.post(
            "/console/evaluation", data={"csrf": clerk.csrf, "data": data}
        )
        assert started.status_code == 303, started.text[:2000]

        services: Services = stack.app.state.services

        async def case() -> RemovalState | None:
            return (await evaluation(services, evaluation_id)).cases.get("L2")

        proposed = await settle(case)
        assert proposed.status is RemovalStatus.AWAITING_VOTE
        page = await clerk.get(f"/console/evaluation/{evaluation_id}")
        assert "待常委会票决" in page and "降职" in page and "甲局长" in page

        vote = f"/console/evaluation/{evaluation_id}/L2/vote"
        form = {
            "meeting.meeting_id": "CW-1",
            "meeting.held_on": today,
            "meeting.members": "11",
            "meeting.present": "9",
            "meeting.method": "secret_ballot",
            "agree": "8",
            "disagree": "1",
            "defer": "0",
        }
        await clerk.get(vote)
        not_hers = await clerk.post(vote, form)
        assert not_hers.status_code == 403, not_hers.text[:2000]
        assert "只能由" in not_hers.text
        await secretary.get(vote)
        done = await secretary.post(vote, form)
        assert done.status_code == 303, done.text[:2000]

        async def decided() -> RemovalState | None:
            found = await case()
            return found if found and found.status is RemovalStatus.DECIDED else None

        assert (await settle(decided)).votes[0].actor.name == secretary_name
        assert "表决通过" in await secretary.get(f"/console/evaluation/{evaluation_id}")
        report = await secretary.http.get(f"/console/evaluation/{evaluation_id}/report.csv")
        text = report.content.decode("utf-8-sig")
        assert report.status_code == 200 and "乙局长" in text and "建议降免职" in text
        lines = [line for line in text.splitlines() if "乙局长" in line]
        assert ",是,是," in lines[0]  # in the last five, proposed
