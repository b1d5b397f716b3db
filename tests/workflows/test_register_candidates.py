"""A case whose candidate is named by the cadre register, on time-skipping Temporal and the
real PostgreSQL: the facts come from the register as of the case's day and the opening
event names the version; a register change is recorded in the case (名册已更新) when the
inspection's start judges the candidate again, before the step uses it; a change that makes
the candidate ineligible refuses the step and changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError

from store.register_cases import fill_candidates, with_register
from tests.register.people import add_person, new_register_id, set_education, set_sanctions
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import (
    CLERK,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    OPENED,
    TEAM,
    person,
    regular_case,
)
from workflows.types import (
    Candidate,
    CaseInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Sanction,
    SanctionKind,
)


def by_register(register_id: str, name: str, **facts: object) -> Candidate:
    """A candidate named by register id, as a door reads one (no person id of its own)."""
    return Candidate.model_validate({"register_id": register_id, "name": name, **facts})


async def filled(sessions: async_sessionmaker[AsyncSession], case: CaseInput) -> CaseInput:
    async with sessions() as s:
        return await fill_candidates(s, case, OPENED)


async def team_step(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> InspectionTeamInput:
    """The inspection team as a door sends it: with the register's facts of its day."""
    arg = InspectionTeamInput(
        actor=CLERK, members=[TEAM.name, "周干事"], started_on=INSPECTION_START
    )
    async with sessions() as s:
        return await with_register(s, case_id, arg)


async def test_a_register_change_is_recorded_before_the_step_uses_it(
    runner: CaseRunner, new_case_id: str
) -> None:
    sessions = runner.sessions
    rid = new_register_id()
    await add_person(sessions, rid, "钱一")  # versions 1 (the person) and 2 (the posts)
    typed = regular_case(
        new_case_id,
        people=[
            by_register(rid, "钱一", short_cv="县环保局科长"),
            person("p2", "李四"),
        ],
    )
    case = await filled(sessions, typed)
    [mine, other] = case.candidates
    assert (mine.person_id, mine.register_version) == (rid, 2)
    assert (mine.birth_date, mine.education, mine.current_post) == (
        date(1982, 5, 6),
        "大学本科",
        "县环保局科长",
    )
    assert mine.short_cv == "县环保局科长"  # the case's own
    assert other.register_id is None and other.register_version is None

    h = await runner.start(case)
    state = await runner.state(h)
    assert [(c.register_id, c.register_version) for c in state.candidates] == [
        (rid, 2),
        (None, None),
    ]
    [opened] = [e for e in await runner.events(new_case_id) if e.kind == "opened"]
    assert f"人选信息取自干部名册：钱一（{rid}）第 2 版" in opened.summary
    [recorded] = [c for c in opened.payload["case"]["candidates"] if c["person_id"] == rid]
    assert (recorded["register_id"], recorded["register_version"]) == (rid, 2)

    await runner.update(
        h,
        "record_investigation_notice",
        InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE),
    )

    # a sanction entered in the register (version 3) bars the inspection: refused, not recorded
    await set_sanctions(
        sessions, rid, [Sanction(kind=SanctionKind.STATE_DEMERIT, decided_on=date(2026, 9, 1))]
    )
    step = await team_step(sessions, new_case_id)
    assert [(r.person_id, r.version) for r in step.register_readings] == [(rid, 3)]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(h, "record_inspection_team", step)
    assert "钱一" in str(refused.value.cause)
    events = await runner.events(new_case_id)
    assert not [e for e in events if e.kind == "register_updated"]
    assert (await runner.state(h)).candidates[0].register_version == 2

    # the sanction withdrawn (version 4) and the education corrected (version 5)
    await set_sanctions(sessions, rid, [])
    await set_education(sessions, rid, "钱一", "研究生")
    state = await runner.update(h, "record_inspection_team", await team_step(sessions, new_case_id))
    assert state.candidates[0].register_version == 5
    events = await runner.events(new_case_id)
    [changed] = [e for e in events if e.kind == "register_updated"]
    assert changed.summary.startswith(f"名册已更新：钱一（{rid}）由第 2 版更新为第 5 版")
    assert "学历" in changed.summary and "处分" not in changed.summary
    assert changed.payload["changed"] == ["学历"]
    assert changed.payload["candidate"]["education"] == "研究生"
    [team] = [e for e in events if e.kind == "input" and "members" in e.payload]
    assert changed.seq < team.seq  # recorded before the step that uses it
    assert "register_readings" not in team.payload  # recorded once, as what it changed
