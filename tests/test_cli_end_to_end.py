"""Whole cases through the command line, as the department's staff run them: the real
Temporal dev server, the real worker (in this process) and the real PostgreSQL test database.

Every step is a subprocess of the `appointments` console script with the settings in its
environment. What the commands print is checked where a person would read it; what they
left behind is checked in PostgreSQL (``store.queries``) and in Temporal's visibility store
(the search attributes). The dates are the known-good timeline of
``tests/workflows/scenarios.py``; the real clock is later than all of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from settings import PROJECT_DIR, load_settings
from starter.temporal_binaries import find_temporal_cli
from store import queries
from tests.cli_accounts import token_for
from tests.workflows.scenarios import (
    APPOINTED_ON,
    INSPECTION_DONE,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
    NOTICE_DAY,
    NOTICE_ENDS,
    OPENED,
    RECOMMENDED,
)
from worker import build_worker
from workflows.glossary import with_value, zh, zh_recorded
from workflows.ids import case_workflow_id
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.types import (
    FOUR_MUSTS,
    CaseStage,
    CaseState,
    CaseStatus,
    ObjectionOutcome,
    Role,
)

pytestmark = pytest.mark.devserver

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEST_SUPPLEMENT = FIXTURES / "calendar-test-supplement.yaml"
APPOINTMENTS = Path(sys.executable).parent / "appointments"
CLI_TIMEOUT = 60.0  # seconds for one command; a hung command fails the test with its output
SETTLE_TIMEOUT = 60.0  # seconds for a case to record what follows a step
VISIBILITY_TIMEOUT = 30.0  # seconds for search attributes to reach the visibility store

# The people of the story (name, role): each is an account with a token, and every command
# runs with the token of the person who does the step (APPOINTMENTS_TOKEN).
CLERK = ("王科员", "clerk")
TEAM = ("考察组 李组长", "inspection_team")
SECRETARY = ("常委会 秘书", "committee_secretary")
AUDITOR = ("审计员 孙", "auditor")
PEOPLE = (CLERK, TEAM, SECRETARY, AUDITOR)

QUORUM_SENTENCE = "未达到法定到会人数：应到 11 人，实到 7 人，至少须 8 人到会"
NOT_FOR_AUDITORS = "「撤回案件」不由审计人员办理（办理人：干部科工作人员、部领导）"
TEAM_SENTENCE = "考察组至少须 2 人，填写的是 1 人"
# tallies and who withdrew (回避), never who voted how
VOTE_ITEM_KEYS = {"person_id", "agree", "disagree", "defer", "deferred_reason", "withdrawn"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------- running the CLI


@dataclass(frozen=True)
class CliRun:
    args: tuple[str, ...]
    status: int
    stdout: str
    stderr: str

    def report(self) -> str:
        return (
            f"`appointments {' '.join(self.args)}` exited with {self.status}\n"
            f"--- stdout:\n{self.stdout}--- stderr:\n{self.stderr}"
        )


@dataclass
class Stack:
    """The dev server, a worker on a task queue of its own, and the database behind both."""

    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    cli_env: Mapping[str, str]
    tokens: Mapping[tuple[str, str], str]  # each person's token

    async def cli(self, *args: str, who: tuple[str, str] = CLERK, expect: int = 0) -> CliRun:
        """Run one command with the token of ``who`` (name, role); fail with its output
        unless it exits with ``expect``."""
        env = {**self.cli_env, "APPOINTMENTS_TOKEN": self.tokens[who]}
        process = await asyncio.create_subprocess_exec(
            str(APPOINTMENTS),
            *args,
            env=env,
            cwd=PROJECT_DIR,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
        except BaseException:  # a timeout, or the test cancelled: leave no process behind
            if process.returncode is None:
                process.kill()
                out, err = await process.communicate()
                run = CliRun(args, -1, out.decode(errors="replace"), err.decode(errors="replace"))
                pytest.fail(f"no answer within {CLI_TIMEOUT} s: {run.report()}")
            raise
        run = CliRun(args, process.returncode or 0, out.decode(), err.decode())
        assert run.status == expect, run.report()
        return run

    async def cli_json(self, *args: str, who: tuple[str, str] = CLERK) -> Any:
        run = await self.cli(*args, "--json", who=who)
        try:
            return json.loads(run.stdout)
        except json.JSONDecodeError as exc:
            pytest.fail(f"not JSON ({exc}): {run.report()}")

    # ---------------------------------------------------------------- direct looks

    async def state(self, case_id: str) -> CaseState:
        handle = self.env.client.get_workflow_handle(case_workflow_id(case_id))
        return await handle.query("state", result_type=CaseState)

    async def events(self, case_id: str) -> list[queries.EventRow]:
        async with self.sessions() as session:
            return await queries.case_history(session, case_id)

    async def event_count(self, case_id: str) -> int:
        async with self.sessions() as session:
            return await queries.count_events(session, case_id)

    async def input_count(self, case_id: str) -> int:
        async with self.sessions() as session:
            history = await queries.case_history(session, case_id)
        return sum(1 for e in history if e.kind == "input")

    async def settle(self, case_id: str, stage: CaseStage) -> int:
        """Wait until the case is at ``stage``, waiting on people with its deadline set and
        every event it numbered in PostgreSQL; the number of what people sent it then (the
        case's own marks, such as a past deadline's overdue mark and escalation, may still
        follow: they are not what a refused step could have sent)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + SETTLE_TIMEOUT
        while True:
            state = await self.state(case_id)
            count = await self.event_count(case_id)
            waiting = state.step is not None and state.step.deadline_at is not None
            if state.stage is stage and waiting and count == state.events_recorded:
                return await self.input_count(case_id)
            if loop.time() > give_up:
                pytest.fail(
                    f"case {case_id} did not settle at {stage.value} within {SETTLE_TIMEOUT} s: "
                    f"stage {state.stage.value}, step {state.step}, "
                    f"{state.events_recorded} events numbered, {count} recorded"
                )
            await asyncio.sleep(0.1)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        port=_free_port(),
    )
    try:
        task_queue = f"cli-e2e-{uuid.uuid4().hex[:8]}"
        settings = {
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": env.client.namespace,
            "TASK_QUEUE": task_queue,
            "DATABASE_URL": database_url,
            "POLICY_FILE": str(PROJECT_DIR / "policy" / "default.yaml"),
            "CALENDAR_SUPPLEMENT": str(TEST_SUPPLEMENT),
        }
        worker = build_worker(env.client, load_settings(settings), session_factory)
        inherited = {k: v for k, v in os.environ.items() if k not in settings}
        cli_env = {**inherited, **settings, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
        # nobody's token file: whoever runs the tests may be signed in themselves
        cli_env["APPOINTMENTS_TOKEN_FILE"] = str(tmp_path_factory.mktemp("login") / "token")
        # nobody's embedded stack either: its payload key would encrypt what this worker reads
        cli_env["DATA_DIR"] = str(tmp_path_factory.mktemp("no-stack"))
        tokens = {p: await token_for(session_factory, p[0], Role(p[1])) for p in PEOPLE}
        async with worker:
            yield Stack(env, session_factory, cli_env, tokens)
    finally:
        await env.shutdown()


# --------------------------------------------------------------------------- files


def write_regular_case(folder: Path, case_id: str) -> Path:
    """A regular appointment (no exam) with two candidates from the democratic
    recommendation, as a clerk would write it."""
    path = folder / f"{case_id}.yaml"
    path.write_text(
        f"""\
# 县环保局副局长, regular appointment: two candidates for one post (差额考察)
case_id: {case_id}
unit: 县环保局
post: 副局长
positions: 1
method: regular_appointment
probation_required: true
opened_on: {OPENED}
recommendation:
  held_on: {RECOMMENDED}
  participants: 45
candidates:
  - person_id: p1
    name: 张三
    current_post: 科长
    current_rank: 正科
  - person_id: p2
    name: 李四
    current_post: 科长
    current_rank: 正科
""",
        encoding="utf-8",
    )
    return path


def write_meeting(folder: Path, name: str, case_ids: list[str], present: int) -> Path:
    """One standing-committee meeting deciding p1 of every case; tallies add up to
    ``present``."""
    items = "".join(
        f"""\
  - case_id: {case_id}
    person_id: p1
    agree: {present - 1}
    disagree: 1
    defer: 0
"""
        for case_id in case_ids
    )
    path = folder / name
    path.write_text(
        f"""\
meeting_id: M-{uuid.uuid4().hex[:6]}
held_on: {MEETING_DAY}
members: 11
present: {present}
method: secret_ballot
items:
{items}""",
        encoding="utf-8",
    )
    return path


def write_notice(folder: Path, case_ids: list[str]) -> Path:
    path = folder / "notice.yaml"
    listed = "".join(f"  - {case_id}\n" for case_id in case_ids)
    path.write_text(
        f"notice_id: GS-{uuid.uuid4().hex[:6]}\npublished_on: {NOTICE_DAY}\ncase_ids:\n{listed}",
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- steps


async def record_team(stack: Stack, case_id: str, *members: str, expect: int = 0) -> CliRun:
    member_options = [arg for m in members for arg in ("--member", m)]
    return await stack.cli(
        "inspection",
        "team",
        case_id,
        *member_options,
        "--started-on",
        str(INSPECTION_START),
        who=CLERK,
        expect=expect,
    )


async def finish_inspection(stack: Stack, case_id: str) -> None:
    """The four musts, the evaluation and the report for p1 and p2, then the conclusion
    proposing p1 to the standing committee."""
    for person in ("p1", "p2"):
        for check in FOUR_MUSTS:
            await stack.cli(
                "inspection",
                "check",
                case_id,
                person,
                check.value,
                "--completed-on",
                "2026-09-10",
                "--finding",
                "无问题",
                who=TEAM,
            )
        await stack.cli(
            "inspection",
            "evaluation",
            case_id,
            person,
            "--held-on",
            "2026-09-09",
            "--participants",
            "40",
            "--excellent",
            "30",
            "--competent",
            "8",
            "--basically-competent",
            "2",
            "--incompetent",
            "0",
            who=TEAM,
        )
        await stack.cli(
            "inspection",
            "report",
            case_id,
            person,
            "--submitted-on",
            str(INSPECTION_DONE),
            "--summary",
            "德才表现良好",
            who=TEAM,
        )
    run = await stack.cli(
        "inspection", "conclude", case_id, "--propose", "p1", "--concluded-on", "2026-09-16"
    )
    assert f"案件 {case_id}：环节 vote" in run.stdout, run.report()


async def closed_workflow_ids(stack: Stack, wanted: set[str]) -> set[str]:
    """Workflows whose CaseStage search attribute is "closed", once ``wanted`` are among
    them or visibility has had its time."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + VISIBILITY_TIMEOUT
    while True:
        found = {w.id async for w in stack.env.client.list_workflows('CaseStage="closed"')}
        if wanted <= found or loop.time() > give_up:
            return found
        await asyncio.sleep(0.2)


# --------------------------------------------------------------------------- the tests


async def test_two_regular_cases_from_start_to_appointment(stack: Stack, tmp_path: Path) -> None:
    run_id = uuid.uuid4().hex[:6]
    case_a, case_b = f"CLI-{run_id}-A", f"CLI-{run_id}-B"
    both = [case_a, case_b]

    for case_id in both:
        run = await stack.cli("case", "start", str(write_regular_case(tmp_path, case_id)))
        assert f"案件 {case_id} 已立案" in run.stdout, run.report()
        assert f"案件 {case_id}：环节 investigation_notice" in run.stdout, run.report()
    run = await stack.cli("case", "start", str(write_regular_case(tmp_path, case_a)), expect=1)
    assert f"案件 {case_a} 已经存在" in run.stderr, run.report()

    for case_id in both:
        run = await stack.cli(
            "inspection", "notice", case_id, "--published-on", str(INVESTIGATION_NOTICE)
        )
        assert f"案件 {case_id}：环节 inspection" in run.stdout, run.report()

    # a refused step: the rule's sentence, exit status 1, nothing recorded
    before = await stack.settle(case_a, CaseStage.INSPECTION)
    run = await record_team(stack, case_a, "李组长", expect=1)
    assert f"未能办理：{TEAM_SENTENCE}" in run.stderr, run.report()
    assert run.stdout == "", run.report()
    assert await stack.settle(case_a, CaseStage.INSPECTION) == before
    assert (await stack.state(case_a)).inspection_team == []

    # the case carries on from where it was refused; both cases are inspected at once
    for case_id in both:
        await record_team(stack, case_id, TEAM[0], "周干事")
    await asyncio.gather(*(finish_inspection(stack, c) for c in both))

    # one meeting for both cases; without a quorum nothing is sent
    counts = [await stack.settle(c, CaseStage.VOTE) for c in both]
    no_quorum = write_meeting(tmp_path, "no-quorum.yaml", both, present=7)
    run = await stack.cli("vote", "record", str(no_quorum), who=SECRETARY, expect=1)
    assert f"未能办理：{QUORUM_SENTENCE}" in run.stderr, run.report()
    assert run.stdout == "" and "record_vote" not in run.stderr, run.report()
    assert [await stack.settle(c, CaseStage.VOTE) for c in both] == counts

    meeting = write_meeting(tmp_path, "meeting.yaml", both, present=9)
    run = await stack.cli("vote", "record", str(meeting), who=SECRETARY)
    assert "应到 11 人，实到 9 人；2 个案件共 2 个表决事项" in run.stdout, run.report()
    assert "2 个案件均已登记" in run.stdout, run.report()
    assert "p1: 通过：应到 11 人，同意 8 人，至少须 6 人同意" in run.stdout, run.report()

    # one notice for both cases, over National Day and the make-up Saturday
    run = await stack.cli("notice", "publish", str(write_notice(tmp_path, both)))
    assert "2 个案件均已登记" in run.stdout, run.report()
    for case_id in both:
        shown = await stack.cli_json("case", "show", case_id)
        assert shown["state"]["dates"]["notice_ends"] == NOTICE_ENDS.isoformat(), shown

    # the notice period is over (the real clock is past it); an objection received during
    # it is entered afterwards, as the rule allows, and verified as no problem
    for case_id in both:
        await stack.settle(case_id, CaseStage.APPOINTMENT)
    run = await stack.cli(
        "notice",
        "objection",
        case_a,
        "p1",
        "--objection-id",
        "O1",
        "--received-on",
        "2026-10-08",
        "--summary",
        "反映其作风问题",
    )
    assert f"案件 {case_a}：环节 public_notice" in run.stdout, run.report()
    run = await stack.cli(
        "notice",
        "verdict",
        case_a,
        "O1",
        "--outcome",
        "no_problem",
        "--verified-on",
        str(NOTICE_ENDS),
        "--finding",
        "经核查，反映问题不属实",
    )
    assert f"案件 {case_a}：环节 appointment" in run.stdout, run.report()

    # the first appointment through its own command, the second through the step table's
    # generic command with the step's fields in a file
    await stack.settle(case_a, CaseStage.APPOINTMENT)
    run = await stack.cli(
        "appoint",
        case_a,
        "p1",
        "--notice-issued-on",
        str(APPOINTED_ON),
        "--talk-held-on",
        str(APPOINTED_ON),
        "--talk-by",
        "部长 赵",
    )
    assert f"案件 {case_a}：环节 closed (已结案)，appointed (已任职)" in run.stdout, run.report()
    await stack.settle(case_b, CaseStage.APPOINTMENT)
    appointment = tmp_path / "appointment.json"
    appointment.write_text(
        json.dumps(
            {
                "person_id": "p1",
                "notice_issued_on": str(APPOINTED_ON),
                "talk_held_on": str(APPOINTED_ON),
                "talk_by": "部长 赵",
            }
        ),
        "utf-8",
    )
    run = await stack.cli("step", "record_appointment", case_b, str(appointment))
    assert f"案件 {case_b}：环节 closed (已结案)，appointed (已任职)" in run.stdout, run.report()
    for case_id in both:
        handle = stack.env.client.get_workflow_handle(
            case_workflow_id(case_id), result_type=CaseState
        )
        final = await handle.result()
        assert final.stage is CaseStage.CLOSED and final.status is CaseStatus.APPOINTED

    # what people read back
    run = await stack.cli("case", "list")
    for case_id in both:
        [line] = [ln for ln in run.stdout.splitlines() if ln.startswith(case_id)]
        assert line.split()[3:5] == [zh(CaseStage.CLOSED), zh(CaseStatus.APPOINTED)], run.report()
    listed = await stack.cli_json("case", "list", "--status", "appointed")
    assert {c["case_id"] for c in listed} >= set(both), listed

    run = await stack.cli("case", "show", case_a)
    events_a = await stack.events(case_a)
    assert f"办理记录（{len(events_a)} 条）：" in run.stdout, run.report()
    for needle in (
        f"环节 {with_value(CaseStage.CLOSED)}，{with_value(CaseStatus.APPOINTED)}",
        f"反映 O1：关于 p1，2026-10-08 收到；{zh(ObjectionOutcome.NO_PROBLEM)}（2026-10-10 核查）",
        "#1  ",
        f" {zh_recorded('opened')} ",
        "notice_ends 2026-10-10",
        f"——常委会 秘书（{zh(Role.COMMITTEE_SECRETARY)}）",
    ):
        assert needle in run.stdout, f"{needle!r} missing: {run.report()}"

    run = await stack.cli("inbox", "list")
    assert run.stdout.strip(), run.report()
    messages = await stack.cli_json("inbox", "list", "--case", case_a)
    assert isinstance(messages, list), messages
    assert all(m["case_id"] == case_a for m in messages), messages

    # PostgreSQL, read directly
    for case_id in both:
        async with stack.sessions() as session:
            row = await queries.get_case(session, case_id)
        assert row is not None, case_id
        assert (row.status.value, row.stage.value) == ("appointed", "closed"), row
        events = await stack.events(case_id)
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(events) + 1)), seqs
        assert row.last_seq == len(events), (row.last_seq, len(events))
        [vote_event] = [e for e in events if e.kind == "input" and "meeting" in e.payload]
        assert set(vote_event.payload) == {"meeting", "items"}, vote_event.payload
        for item in vote_event.payload["items"]:
            assert set(item) == VOTE_ITEM_KEYS, item
        assert vote_event.actor_role.value == "committee_secretary"

    # the search attributes, once visibility has caught up
    workflow_ids = {case_workflow_id(c) for c in both}
    closed = await closed_workflow_ids(stack, workflow_ids)
    assert workflow_ids <= closed, f'CaseStage="closed" lists {sorted(closed)}'


async def test_an_auditors_token_cannot_withdraw_a_case(stack: Stack, tmp_path: Path) -> None:
    case_id = f"CLI-{uuid.uuid4().hex[:6]}-W"
    await stack.cli("case", "start", str(write_regular_case(tmp_path, case_id)))
    before = await stack.settle(case_id, CaseStage.INVESTIGATION_NOTICE)

    # the workflow's own check of the step table, as for the API: the auditor's account
    run = await stack.cli(
        "case", "withdraw", case_id, "--reason", "审计要求撤销", who=AUDITOR, expect=1
    )
    assert run.stderr == f"未能办理：{NOT_FOR_AUDITORS}\n", run.report()
    assert run.stdout == "", run.report()
    assert await stack.settle(case_id, CaseStage.INVESTIGATION_NOTICE) == before
    assert (await stack.state(case_id)).status is CaseStatus.ACTIVE
    run = await stack.cli(
        "case", "start", str(write_regular_case(tmp_path, "x")), who=AUDITOR, expect=1
    )
    assert "未能办理：审计人员无权新建案件" in run.stderr, run.report()

    # the clerk may; the history names the clerk's account
    run = await stack.cli("case", "withdraw", case_id, "--reason", "岗位撤销")
    assert f"案件 {case_id}：环节 closed" in run.stdout, run.report()
    handle = stack.env.client.get_workflow_handle(case_workflow_id(case_id), result_type=CaseState)
    assert (await handle.result()).status is CaseStatus.WITHDRAWN
    closed = (await stack.events(case_id))[-1]
    assert (closed.kind, closed.actor_name, closed.actor_role.value) == ("closed", *CLERK)


async def test_exam_case_from_the_fixture_files(stack: Stack, tmp_path: Path) -> None:
    case_id = f"GY-{uuid.uuid4().hex[:6]}"
    text = (FIXTURES / "exam_case.yaml").read_text(encoding="utf-8")
    assert "case_id: GY-2026-017\n" in text
    case_file = tmp_path / "exam_case.yaml"
    case_file.write_text(text.replace("case_id: GY-2026-017\n", f"case_id: {case_id}\n"), "utf-8")

    run = await stack.cli("case", "start", str(case_file))
    assert f"案件 {case_id}：环节 exam" in run.stdout, run.report()
    run = await stack.cli(
        "exam",
        "register",
        case_id,
        str(FIXTURES / "applicants.csv"),
        "--announced-on",
        "2026-08-25",
        "--closed-on",
        "2026-09-04",
    )
    assert f"案件 {case_id}：环节 exam" in run.stdout, run.report()
    await stack.cli(
        "exam", "written", case_id, str(FIXTURES / "written.csv"), "--held-on", "2026-09-12"
    )
    run = await stack.cli(
        "exam", "interview", case_id, str(FIXTURES / "interview.csv"), "--held-on", "2026-09-19"
    )
    assert f"案件 {case_id}：环节 investigation_notice" in run.stdout, run.report()

    shown = await stack.cli_json("case", "show", case_id)
    state = shown["state"]
    assert state["stage"] == "investigation_notice", state
    assert shown["case"]["stage"] == "investigation_notice", shown["case"]
    people = {c["person_id"]: c for c in state["candidates"]}
    assert {p: c["status"] for p, c in people.items()} == {
        "P-17001": "in_pool",
        "P-17002": "in_pool",
        "P-17003": "in_pool",
        "P-17004": "not_qualified",
        "P-17005": "failed_exam",
        "P-17006": "failed_exam",
    }
    assert people["P-17003"]["rank"] == 1
    assert people["P-17003"]["total_score"] == pytest.approx(86.5 * 0.4 + 88.4 * 0.6)
    seqs = [e["seq"] for e in shown["history"]]
    assert sorted(seqs) == list(range(1, len(seqs) + 1)), seqs
