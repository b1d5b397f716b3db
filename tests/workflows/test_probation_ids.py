"""No two appointees share a probation, and probations started under the old ID run on.

Probations were named ``probation-<case>-<person>``: case ``A-B``'s person ``1`` and case
``A``'s person ``B-1`` both got ``probation-A-B-1``, so the second appointee had no
probation and an early end sent for the second ended the first's. On the time-skipping
server with the real worker (the case workflow starts each probation as its child)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.probations import find_probation_id
from starter.cli import cli
from store.probation_models import probation_history
from tests.audit.conftest import (  # noqa: F401  (a log database of the test's own)
    log_sessions,
    log_url,
    probation_story,
    record_probation,
)
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import APPOINTED_ON, HEAD, inspect, person, regular_case
from tests.workflows.test_paths import finish_notice_and_appoint
from workflows.ids import legacy_probation_workflow_id, probation_workflow_id
from workflows.probation_types import (
    EndEarlyInput,
    ProbationInput,
    ProbationState,
    ProbationStatus,
)

EARLY_END = EndEarlyInput(
    actor=HEAD,
    decided_by="县委常委会",
    decided_on=APPOINTED_ON + timedelta(days=20),
    reason="严重违纪",
)

KEY = st.text(st.sampled_from("AB1-:%_.3a"), min_size=1, max_size=6)


@given(KEY, KEY, KEY, KEY)
def test_two_pairs_never_share_an_id(
    case_a: str, person_a: str, case_b: str, person_b: str
) -> None:
    same_id = probation_workflow_id(case_a, person_a) == probation_workflow_id(case_b, person_b)
    assert same_id == ((case_a, person_a) == (case_b, person_b))
    # nor does a new ID equal any old one, which a running probation may still hold
    assert probation_workflow_id(case_a, person_a) != legacy_probation_workflow_id(case_b, person_b)


def test_the_pair_that_collided_has_two_ids_that_read_as_they_are() -> None:
    assert legacy_probation_workflow_id("A-B", "1") == legacy_probation_workflow_id("A", "B-1")
    assert probation_workflow_id("A-B", "1") == "probation:A-B:1"
    assert probation_workflow_id("A", "B-1") == "probation:A:B-1"
    assert probation_workflow_id("A", "B:1") == "probation:A:B%3A1"


async def kinds(runner: CaseRunner, probation_id: str) -> list[str]:
    """The kinds of the events recorded in PostgreSQL under ``probation_id``."""
    async with runner.sessions() as s:
        return [e.kind for e in await probation_history(s, probation_id)]


async def appoint(runner: CaseRunner, case_id: str, person_id: str) -> None:
    """A regular case that appoints ``person_id``, whose post needs probation."""
    h = await runner.start(regular_case(case_id, [person(person_id, "张三"), person("q", "李四")]))
    await inspect(runner, h, [person_id, "q"], [person_id])
    await finish_notice_and_appoint(runner, h, [person_id])
    await h.result()


async def test_the_colliding_pair_gets_a_probation_each_and_an_early_end_ends_one(
    runner: CaseRunner,
) -> None:
    await appoint(runner, "A-B", "1")
    await appoint(runner, "A", "B-1")
    client = runner.env.client
    # found as every front end finds them (API, console, command line): by case and person
    first = await find_probation_id(client, "A-B", "1")
    second = await find_probation_id(client, "A", "B-1")
    assert (first, second) == ("probation:A-B:1", "probation:A:B-1")

    async def state(workflow_id: str) -> ProbationState:
        handle = client.get_workflow_handle(workflow_id)
        return await handle.query("state", result_type=ProbationState)

    assert [((s := await state(w)).case_id, s.person_id) for w in (first, second)] == [
        ("A-B", "1"),
        ("A", "B-1"),
    ]
    ended = await client.get_workflow_handle(second).execute_update(
        "end_early", EARLY_END, result_type=ProbationState
    )
    assert (ended.case_id, ended.person_id, ended.status) == (
        "A",
        "B-1",
        ProbationStatus.ENDED_EARLY,
    )
    untouched = await state(first)
    assert (untouched.person_id, untouched.status) == ("1", ProbationStatus.ON_PROBATION)
    assert untouched.early_end is None
    # each is its own chain of events, under its own ID
    assert {"opened", "ended_early"} <= set(await kinds(runner, second))
    assert "opened" in await kinds(runner, first)
    assert "ended_early" not in await kinds(runner, first)


async def test_a_probation_started_under_the_old_id_is_found_and_runs_on(
    runner: CaseRunner,
) -> None:
    """As a case started it before IDs were made unambiguous: it keeps its ID for its year."""
    client = runner.env.client
    old_id = legacy_probation_workflow_id("L-1", "P-2")
    assert old_id == "probation-L-1-P-2" == legacy_probation_workflow_id("L-1-P", "2")
    started = ProbationInput(
        case_id="L-1",
        person_id="P-2",
        name="王五",
        unit="县环保局",
        post="副局长",
        starts_on=date(2026, 10, 12),
    )
    handle = await client.start_workflow(
        "ProbationWorkflow", started, id=old_id, task_queue=runner.task_queue
    )
    runner.started.append(handle)
    assert await find_probation_id(client, "L-1", "P-2") == old_id
    # the other pair its old ID reads as is not taken for it: that one has no probation
    assert await find_probation_id(client, "L-1-P", "2") == probation_workflow_id("L-1-P", "2")
    ended = await handle.execute_update("end_early", EARLY_END, result_type=ProbationState)
    assert (ended.probation_id, ended.status) == (old_id, ProbationStatus.ENDED_EARLY)
    assert (await kinds(runner, old_id))[0] == "opened"
    assert await kinds(runner, probation_workflow_id("L-1", "P-2")) == []


async def test_the_command_line_shows_an_old_probation_by_case_and_person(
    log_url: str,  # noqa: F811
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    """The listing knows the ID each probation runs under: the old form for an old one."""
    old_id = legacy_probation_workflow_id("L-1", "P-2")
    story = [e.model_copy(update={"probation_id": old_id}) for e in probation_story("L-1", "P-2")]
    await record_probation(log_sessions, story)
    await record_probation(log_sessions, probation_story("L-1-P", "2"))

    def show(case_id: str, person_id: str) -> Result:
        env = {"DATABASE_URL": log_url, "TEMPORAL_ADDRESS": "127.0.0.1:1"}
        return CliRunner().invoke(cli, ["probation", "show", case_id, person_id], env=env)

    # one at a time: the runner swaps the process's standard streams
    old = await asyncio.to_thread(show, "L-1", "P-2")
    new = await asyncio.to_thread(show, "L-1-P", "2")
    assert old.exit_code == 0, old.output
    assert old.output.startswith(f"试用期 {old_id} ") and "办理记录（5 条）" in old.output
    assert new.exit_code == 0, new.output
    assert new.output.startswith(f"试用期 {probation_workflow_id('L-1-P', '2')} ")
