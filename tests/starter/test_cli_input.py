"""The command line's handling of input: files and options are read and checked before
anything is sent, and a problem is reported with its place (field, line, column).

No Temporal and no database: ``connect`` is replaced by a recorder, so a test can assert
that nothing was sent, or look at exactly what would have been.
"""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import starter.cli_base as cli_base
from starter.cli import cli, load_model, read_applicants, read_scores
from workflows.case_book import check_case_input
from workflows.steps import CASE_STEPS
from workflows.types import (
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    ObjectionInput,
    PublicNoticeInput,
    SelectionMethod,
    VoteInput,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CLERK = ["--actor", "张敏", "--role", "clerk"]
SECRETARY = ["--actor", "李卫东", "--role", "committee_secretary"]
QUORUM_SENTENCE = "quorum not met: 7 of 11 present, at least 8 required"


class FakeHandle:
    def __init__(self, client: FakeClient, workflow_id: str) -> None:
        self.client = client
        self.id = workflow_id

    async def execute_update(self, update: str, arg: Any, result_type: Any = None) -> CaseState:
        self.client.updates.append((self.id, update, arg))
        refusal = self.client.refuse.get(self.id)
        if refusal:
            raise WorkflowUpdateFailedError(ApplicationError(refusal, non_retryable=True))
        return CaseState(
            case_id=self.id.removeprefix("appointment-case-"),
            unit="县环保局",
            post="副局长",
            positions=1,
            method=SelectionMethod.OPEN_SELECTION,
            stage=CaseStage.PUBLIC_NOTICE,
            status=CaseStatus.ACTIVE,
            opened_on=date(2026, 8, 24),
        )


class FakeClient:
    def __init__(self) -> None:
        self.updates: list[tuple[str, str, Any]] = []
        self.refuse: dict[str, str] = {}

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        return FakeHandle(self, workflow_id)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to reach Temporal, by address; each attempt fails as if nobody listened."""
    attempts: list[str] = []

    async def refuse(settings: Any) -> Any:
        attempts.append(settings.temporal_address)
        raise RuntimeError("Failed client connect: connection refused")

    monkeypatch.setattr(cli_base, "connect", refuse)
    return attempts


@pytest.fixture
def fake_client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    client = FakeClient()

    async def connect(settings: Any) -> FakeClient:
        return client

    monkeypatch.setattr(cli_base, "connect", connect)
    return client


def invoke(args: list[str]) -> Result:
    # An address nobody listens on: a command that did try to connect would fail with
    # status 3 and "cannot reach Temporal", never with the input errors asserted below.
    env = {"TEMPORAL_ADDRESS": "127.0.0.1:1", "APPOINTMENTS_ACTOR": "", "APPOINTMENTS_ROLE": ""}
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


# --------------------------------------------------------------------------- case files


def test_malformed_case_file_names_each_field(tmp_path: Path, connections: list[str]) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text(
        "case_id: GY-2026-030\n"
        "post: 副局长\n"  # unit missing
        "positions: 两个\n"
        "method: open_selection\n"
        "candidates:\n"
        "  - person_id: P-1\n"
        "    name: 王磊\n"
        "    birth_date: 1985-13-01\n",
        encoding="utf-8",
    )
    result = invoke([*CLERK, "case", "start", str(bad)])
    assert result.exit_code == 2
    assert "unit: Field required" in result.stderr
    assert "positions: Input should be a valid integer" in result.stderr
    assert "candidates[0].birth_date:" in result.stderr
    assert connections == []


def test_case_file_with_a_yaml_syntax_error_names_the_line(
    tmp_path: Path, connections: list[str]
) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text("case_id: GY-2026-030\nunit: [县环保局\npost: 副局长\n", encoding="utf-8")
    result = invoke([*CLERK, "case", "start", str(bad)])
    assert result.exit_code == 2
    assert "not valid YAML" in result.stderr
    assert "line 4" in result.stderr or "line 3" in result.stderr
    assert connections == []


def test_opened_by_comes_from_the_command_line_not_the_file(
    tmp_path: Path, connections: list[str]
) -> None:
    bad = tmp_path / "case.json"
    bad.write_text(
        '{"case_id": "GY-2026-030", "unit": "县环保局", "post": "副局长", "positions": 1,'
        ' "method": "open_selection", "opened_by": {"name": "某人", "role": "clerk"}}',
        encoding="utf-8",
    )
    result = invoke([*CLERK, "case", "start", str(bad)])
    assert result.exit_code == 2
    assert "opened_by must not be in the file" in result.stderr
    assert connections == []


def test_a_step_without_actor_and_role_is_refused_before_reading(connections: list[str]) -> None:
    result = invoke(["case", "start", str(FIXTURES / "exam_case.yaml")])
    assert result.exit_code == 2
    assert "--actor NAME and --role ROLE" in result.stderr
    assert connections == []


def test_sample_case_files_are_valid_and_pass_the_start_checks() -> None:
    opened_by = {"opened_by": {"name": "张敏", "role": "clerk"}}
    regular = load_model(CaseInput, FIXTURES / "regular_case.yaml", opened_by)
    exam = load_model(CaseInput, FIXTURES / "exam_case.yaml", opened_by)
    assert regular.method is SelectionMethod.REGULAR_APPOINTMENT
    assert len(regular.candidates) == 3
    assert exam.method is SelectionMethod.OPEN_SELECTION and exam.candidates == []
    for case in (regular, exam):
        check_case_input(case, date(2026, 11, 24), recommendation_valid_months=12)


# --------------------------------------------------------------------------- CSV files


def test_csv_with_a_bad_score_names_line_and_column(tmp_path: Path, connections: list[str]) -> None:
    scores = tmp_path / "written.csv"
    scores.write_text("person_id,score\nP-17001,78.5\nP-17002,八十\nP-17003,101\n", "utf-8")
    result = invoke(
        [*CLERK, "exam", "written", "GY-2026-017", str(scores), "--held-on", "2026-09-19"]
    )
    assert result.exit_code == 2
    assert "written.csv, line 3, column score: Input should be a valid number" in result.stderr
    assert "written.csv, line 4, column score: Input should be less than or equal to 100" in (
        result.stderr
    )
    assert "nothing was sent" in result.stderr
    assert connections == []


def test_applicants_csv_problems_name_line_and_column(
    tmp_path: Path, connections: list[str]
) -> None:
    lines = (FIXTURES / "applicants.csv").read_text("utf-8").splitlines()
    lines[2] = lines[2].replace(",是,", ",也许,")  # line 3: qualified
    lines[4] = lines[4].replace("2026-08-28", "2026-02-30")  # line 5: registered_on
    lines[5] = lines[5].replace("state_warning", "warning")  # line 6: sanction kind
    bad = tmp_path / "applicants.csv"
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    result = invoke(
        [
            *CLERK,
            "exam",
            "register",
            "GY-2026-017",
            str(bad),
            "--announced-on",
            "2026-08-24",
            "--closed-on",
            "2026-09-04",
        ]
    )
    assert result.exit_code == 2
    assert "line 3, column qualified: write yes or no (是/否), not '也许'" in result.stderr
    assert "line 5, column registered_on:" in result.stderr
    assert "line 6, column sanctions: item 1 kind:" in result.stderr
    assert connections == []


def test_csv_with_a_missing_column_is_refused(tmp_path: Path, connections: list[str]) -> None:
    scores = tmp_path / "interview.csv"
    scores.write_text("person_id,points\nP-17001,80\n", "utf-8")
    result = invoke(
        [*CLERK, "exam", "interview", "GY-2026-017", str(scores), "--held-on", "2026-10-17"]
    )
    assert result.exit_code == 2
    assert "line 1: missing column: score" in result.stderr
    assert connections == []


def test_sample_csv_files_parse() -> None:
    applicants = read_applicants(FIXTURES / "applicants.csv")
    assert len(applicants) == 6
    refused = [a for a in applicants if not a.qualified]
    assert [a.candidate.name for a in refused] == ["刘芳"] and refused[0].reason
    sanctioned = [a for a in applicants if a.candidate.sanctions]
    assert sanctioned[0].candidate.sanctions[0].decided_on == date(2024, 3, 10)
    qualified = {a.candidate.person_id for a in applicants if a.qualified}
    for name in ("written.csv", "interview.csv"):
        assert {s.person_id for s in read_scores(FIXTURES / name)} == qualified


def test_a_malformed_date_option_exits_2(connections: list[str]) -> None:
    result = invoke([*CLERK, "inspection", "notice", "GY-2026-021", "--published-on", "2026/10/21"])
    assert result.exit_code == 2
    assert connections == []


# --------------------------------------------------------------------------- meetings


def test_meeting_without_quorum_is_refused_and_nothing_is_sent(
    tmp_path: Path, connections: list[str]
) -> None:
    text = (FIXTURES / "meeting.yaml").read_text("utf-8").replace("present: 9", "present: 7")
    meeting = tmp_path / "meeting.yaml"
    meeting.write_text(text, "utf-8")
    result = invoke([*SECRETARY, "vote", "record", str(meeting)])
    assert result.exit_code == 1
    assert f"refused: {QUORUM_SENTENCE}" in result.stderr
    assert "cannot reach Temporal" not in result.stderr
    assert connections == []


def test_one_bad_tally_refuses_the_whole_meeting(tmp_path: Path, connections: list[str]) -> None:
    text = (FIXTURES / "meeting.yaml").read_text("utf-8").replace("agree: 9", "agree: 7")
    meeting = tmp_path / "meeting.yaml"
    meeting.write_text(text, "utf-8")
    result = invoke([*SECRETARY, "vote", "record", str(meeting)])
    assert result.exit_code == 1
    assert "the tallies for P-21001 add up to 7, but 9 members are present" in result.stderr
    assert connections == []


def test_meeting_sends_one_vote_per_case(fake_client: FakeClient) -> None:
    result = invoke([*SECRETARY, "vote", "record", str(FIXTURES / "meeting.yaml")])
    assert result.exit_code == 0, result.output
    sent = {workflow_id: (update, arg) for workflow_id, update, arg in fake_client.updates}
    assert set(sent) == {"appointment-case-GY-2026-017", "appointment-case-GY-2026-021"}
    for update, arg in sent.values():
        assert update == "record_vote"
        assert isinstance(arg, VoteInput)
        assert (arg.meeting.members, arg.meeting.present) == (11, 9)
        assert arg.actor.name == "李卫东"
    assert [i.person_id for i in sent["appointment-case-GY-2026-017"][1].items] == ["P-17003"]
    assert "P-17003: passed: 8 of 11 members agreed, at least 6 required" in result.stdout
    assert "recorded for all 2 case(s)" in result.stdout


def test_a_case_refusing_its_vote_is_reported_with_the_others(fake_client: FakeClient) -> None:
    fake_client.refuse["appointment-case-GY-2026-017"] = "case GY-2026-017 is at stage inspection"
    result = invoke([*SECRETARY, "vote", "record", str(FIXTURES / "meeting.yaml")])
    assert result.exit_code == 1
    assert len(fake_client.updates) == 2  # the second case still got its vote
    assert "recorded: GY-2026-021" in result.stderr
    assert "not recorded: GY-2026-017 — case GY-2026-017 is at stage inspection" in result.stderr


def test_notice_file_publishes_to_each_case(fake_client: FakeClient) -> None:
    result = invoke([*CLERK, "notice", "publish", str(FIXTURES / "notice.yaml")])
    assert result.exit_code == 0, result.output
    assert [(w, u) for w, u, _ in fake_client.updates] == [
        ("appointment-case-GY-2026-017", "record_public_notice"),
        ("appointment-case-GY-2026-021", "record_public_notice"),
    ]
    arg = fake_client.updates[0][2]
    assert isinstance(arg, PublicNoticeInput)
    assert (arg.notice_id, arg.published_on) == ("GY-GS-2026-11", date(2026, 11, 12))


def test_a_refused_step_prints_the_rules_sentence(fake_client: FakeClient) -> None:
    fake_client.refuse["appointment-case-GY-2026-021"] = "inspection team needs at least 2 members"
    result = invoke(
        [
            *CLERK,
            "inspection",
            "team",
            "GY-2026-021",
            "--member",
            "赵强",
            "--started-on",
            "2026-10-23",
        ]
    )
    assert result.exit_code == 1
    assert "refused: inspection team needs at least 2 members" in result.stderr


# --------------------------------------------------------------------------- the step table


def _sent_updates() -> set[str]:
    """The updates the ergonomic commands send, as written in their calls."""
    found: set[str] = set()
    for path in Path(cli_base.__file__).parent.glob("*.py"):
        for call in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                continue
            position = {"record_step": 2, "record_many": 1, "_scores_command": 0}.get(call.func.id)
            if position is not None and len(call.args) > position:
                arg = call.args[position]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def test_the_ergonomic_commands_send_only_steps_of_the_table() -> None:
    sent = _sent_updates()
    assert len(sent) >= 15, sorted(sent)  # the scan still sees the commands
    assert sent <= set(CASE_STEPS), sorted(sent - set(CASE_STEPS))


def test_the_step_command_offers_every_row_of_the_table() -> None:
    result = invoke(["step", "--help"])
    assert result.exit_code == 0, result.output
    for update, row in CASE_STEPS.items():
        assert update in result.stdout and row.title in result.stdout
    refused = invoke([*CLERK, "step", "record_nothing", "C-1", "-"])
    assert refused.exit_code == 2 and "record_nothing" in refused.stderr


def test_the_step_command_checks_the_file_with_the_rows_model(
    tmp_path: Path, connections: list[str]
) -> None:
    bad = tmp_path / "appointment.json"
    bad.write_text('{"person_id": "P-1", "notice_issued_on": "2026-13-01"}', "utf-8")
    result = invoke([*CLERK, "step", "record_appointment", "GY-2026-017", str(bad)])
    assert result.exit_code == 2
    assert "notice_issued_on" in result.stderr and "talk_by: Field required" in result.stderr
    forged = tmp_path / "forged.yaml"
    forged.write_text("actor: {name: 部长, role: department_head}\nreason: 不需要了\n", "utf-8")
    result = invoke([*CLERK, "step", "withdraw", "GY-2026-017", str(forged)])
    assert result.exit_code == 2 and "actor must not be in the file" in result.stderr
    assert connections == []


def test_the_step_command_sends_any_row_from_standard_input(fake_client: FakeClient) -> None:
    objection: dict[str, object] = {"objection_id": "O9", "person_id": "P-17003"}
    objection |= {"received_on": "2026-10-08", "summary": "反映其作风问题", "anonymous": True}
    result = CliRunner().invoke(
        cli,
        [*CLERK, "step", "record_objection", "GY-2026-017", "-"],
        input=json.dumps(objection, ensure_ascii=False),
        env={"TEMPORAL_ADDRESS": "127.0.0.1:1"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    [(workflow_id, update, arg)] = fake_client.updates
    assert (workflow_id, update) == ("appointment-case-GY-2026-017", "record_objection")
    assert isinstance(arg, ObjectionInput)
    assert (arg.actor.name, arg.actor.role.value, arg.objection_id) == ("张敏", "clerk", "O9")
