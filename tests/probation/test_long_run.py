"""Long-run hygiene: a year's history stays small, and a long one continues as new."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType

from tests.probation.conftest import HEAD, ProbationRunner, SmtpServer, probation_input
from workflows.probation_types import (
    ProbationStatus,
    ReviewInput,
    ReviewOutcome,
    probation_end,
    probation_workflow_id,
)
from workflows.rules.working_days import at_hour

# A full year with its four reminders, a review and the formal appointment took 119 events
# when this was written; the ceiling leaves room without hiding a loop that grows.
YEAR_EVENT_CEILING = 150


async def _year(runner: ProbationRunner, case_id: str, **extra) -> tuple:
    today = await runner.today()
    h = await runner.start(probation_input(case_id, today, **extra))
    ends = probation_end(today)
    await runner.sleep_until(at_hour(ends, 12))
    review = ReviewInput(
        actor=HEAD, outcome=ReviewOutcome.COMPETENT, reviewed_on=ends, summary="胜任"
    )
    await runner.update(h, "record_review", review)
    return h, await h.result()


async def test_a_year_of_probation_keeps_a_small_history(
    runner: ProbationRunner, new_id: str
) -> None:
    h, result = await _year(runner, new_id)
    assert result.runs == 1
    events = (await h.fetch_history()).events
    print(f"history of a full year: {len(events)} events")
    assert len(events) < YEAR_EVENT_CEILING, len(events)


async def test_a_long_history_continues_as_new_without_repeating_anything(
    runner: ProbationRunner, smtp: SmtpServer, new_id: str
) -> None:
    h, result = await _year(runner, new_id, history_limit=40)
    assert result.status is ProbationStatus.FORMALLY_APPOINTED
    assert result.runs >= 2
    assert [m.days_before_end for m in result.reminders] == [60, 30, 7, 0]
    pid = probation_workflow_id(new_id, "P001")
    events = await runner.events(pid)
    assert [e.kind for e in events] == ["opened", *["reminder"] * 4, "review", "formal"]
    assert [e.seq for e in events] == list(range(1, 8))
    assert len(smtp.about(pid)) == 12  # 6 messages to 2 people, none twice
    # the first run ended by continuing as new
    first = runner.env.client.get_workflow_handle(h.id, run_id=h.first_execution_run_id)
    last_event = (await first.fetch_history()).events[-1]
    assert last_event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
