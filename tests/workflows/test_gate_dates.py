"""A case brought in late, on the time-skipping server: each gate judges on the date of the
act it gates, not on the day the case is typed in (issue #16, classes 1, 2 and 8)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner
from tests.workflows.scenarios import CLERK, INVESTIGATION_NOTICE, TEAM, person, regular_case
from tests.workflows.test_paths import refused
from workflows.types import (
    CandidateStatus,
    CaseInput,
    CaseStage,
    CaseState,
    DemocraticRecommendation,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Sanction,
    SanctionKind,
)

# A case of early 2026, typed in in December (the test server's clock is the real date).
OPENED = date(2026, 1, 5)
NOTICE = date(2026, 3, 2)  # Monday; inspection may start 03-03 .. 03-05
STARTED = date(2026, 3, 3)


def early_case(case_id: str, **extra: Any) -> CaseInput:
    fields: dict[str, Any] = {"opened_on": OPENED, **extra}
    fields.setdefault(
        "recommendation", DemocraticRecommendation(held_on=date(2025, 12, 20), participants=45)
    )
    return regular_case(case_id, **fields)


async def to_inspection(runner: CaseRunner, h) -> None:
    await runner.update(
        h,
        "record_investigation_notice",
        InvestigationNoticeInput(actor=CLERK, published_on=NOTICE),
    )


def the_team() -> InspectionTeamInput:
    return InspectionTeamInput(actor=CLERK, members=[TEAM.name, "周干事"], started_on=STARTED)


async def test_a_sanction_covering_the_inspection_stops_it(runner: CaseRunner) -> None:
    """Warned on 01-20, after the opening: six months, to 07-20. The inspection (03-03) and
    any vote after it fell inside the period; typed in in December, after it ended, the
    candidate went through. The inspection gate judges on the inspection's start."""
    p1 = person(
        "p1",
        "张三",
        sanctions=[Sanction(kind=SanctionKind.STATE_WARNING, decided_on=date(2026, 1, 20))],
    )
    h = await runner.start(early_case("late-sanction", candidates=[p1, person("p2", "李四")]))
    state = await runner.state(h)
    assert state.stage is CaseStage.INVESTIGATION_NOTICE
    checked = [e for e in await runner.events("late-sanction") if "checked_on" in e.payload]
    assert [e.payload["checked_on"] for e in checked] == ["2026-01-05"]  # the opening's date
    await to_inspection(runner, h)
    message = await refused(runner, h, "record_inspection_team", the_team())
    assert message == (
        "考察开始之日（2026-03-03）：张三于 2026-01-20 受到政务警告，"
        "尚在影响期内（2026-07-20 起期满）；不能进行考察"
    )
    inputs = [e for e in await runner.events("late-sanction") if e.kind == "input"]
    assert not [e for e in inputs if "开始考察" in e.summary]
    state = await runner.state(h)
    assert state.stage is CaseStage.INSPECTION and "inspection_started" not in state.dates
    assert state.candidates[0].status is CandidateStatus.IN_POOL


async def test_a_recommendation_stale_by_the_inspection_stops_it(runner: CaseRunner) -> None:
    """Recommended 2025-03-01: valid when the case opened (01-05), more than a year old when
    the inspection started (03-03); before, only the vote noticed, after a whole inspection."""
    stale = DemocraticRecommendation(held_on=date(2025, 3, 1), participants=45)
    h = await runner.start(early_case("late-recommendation", recommendation=stale))
    await to_inspection(runner, h)
    message = await refused(runner, h, "record_inspection_team", the_team())
    assert message == ("2025-03-01 的民主推荐到 2026-03-03 已超过 12 个月；民主推荐结果一年内有效")
    assert (await runner.state(h)).stage is CaseStage.INSPECTION


async def settled(runner: CaseRunner, h, key: str) -> CaseState:
    """The state once the case waits on ``key`` with its deadline set (the workflow's main
    loop schedules it just after the update that led there)."""
    for _ in range(SETTLE_SECONDS * 20):
        state = await runner.state(h)
        if state.step is not None and state.step.step == key and state.step.deadline_at:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the case never waited on {key}: {state.step}")


async def test_a_step_started_long_ago_is_overdue_at_once(runner: CaseRunner) -> None:
    """The notice was published on 2026-09-07 and the case typed in in December: the
    inspection team was due a few working days after the notice, not after the typing."""
    h = await runner.start(regular_case("late-deadline"))
    await runner.update(
        h,
        "record_investigation_notice",
        InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE),
    )
    state = await settled(runner, h, "inspection_team")
    assert state.step is not None and state.step.started_on == INVESTIGATION_NOTICE
    for _ in range(SETTLE_SECONDS * 20):
        events = await runner.events("late-deadline")
        if any(e.kind == "overdue" and "考察组" in e.summary for e in events):
            break
        await asyncio.sleep(0.05)
    [deadline] = [e for e in events if e.kind == "deadline" and "考察组" in e.summary]
    due = date.fromisoformat(deadline.payload["deadline_on"])
    assert INVESTIGATION_NOTICE < due < date(2026, 10, 1)
    [overdue] = [e for e in events if e.kind == "overdue" and "考察组" in e.summary]
    assert overdue.summary.endswith(f"已于 {due} 逾期")
    state = await runner.state(h)
    assert state.step is not None and state.step.overdue


async def test_accountability_bars_a_promotion_24_months_a_lateral_move_12(
    runner: CaseRunner,
) -> None:
    """Class 6: 张三 was removed by accountability (问责) on 2024-12-03, 15 months before the
    inspection (03-03). Moved laterally into the leading post he is inspected; promoted
    into it he is not (24 months, to 2026-12-03). Before, the file could not tell the two
    apart and both waited the 24 months."""
    removed = Sanction(kind=SanctionKind.ACCOUNTABILITY_REMOVAL, decided_on=date(2024, 12, 3))

    def case(case_id: str, promotion: bool) -> CaseInput:
        p1 = person("p1", "张三", promotion=promotion, sanctions=[removed])
        others = [person("p2", "李四"), person("p3", "王五")]
        return early_case(case_id, candidates=[p1, *others], leading_post=True)

    h = await runner.start(case("accountability-lateral", promotion=False))
    assert (await runner.state(h)).candidates[0].status is CandidateStatus.IN_POOL
    await to_inspection(runner, h)
    state = await runner.update(h, "record_inspection_team", the_team())
    assert state.dates["inspection_started"] == STARTED
    assert state.candidates[0].status is CandidateStatus.IN_POOL

    h = await runner.start(case("accountability-promotion", promotion=True))
    state = await runner.state(h)
    assert state.candidates[0].status is CandidateStatus.INELIGIBLE
    expected = (
        "张三不符合任职条件：张三于 2024-12-03 受到问责（引咎辞职、责令辞职或免职），"
        "尚在影响期内（2026-12-03 起期满；24 个月内不得担任高于原任职务层次的职务）"
    )
    events = await runner.events("accountability-promotion")
    assert next(e.summary for e in events if e.kind == "eligibility") == expected
    await to_inspection(runner, h)
    state = await runner.update(h, "record_inspection_team", the_team())
    in_pool = [c.person_id for c in state.candidates if c.status is CandidateStatus.IN_POOL]
    assert in_pool == ["p2", "p3"]
