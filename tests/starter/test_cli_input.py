"""The command line's handling of input: files and options are read and checked before
anything is sent, and a problem is reported with its place (field, line, column); and who
records a step: the account of the person's token, never a name or role given on the
command line.

No Temporal: ``connect`` is replaced by a recorder, so a test can assert that nothing was
sent, or look at exactly what would have been. The accounts are real, in the test
database, and a test that records a step gives the CLI one's token and ``DATABASE_URL``.
"""

from __future__ import annotations

import ast
import json
import stat
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
import yaml
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import starter.cli_base as cli_base
import starter.login_cli as login_cli
from starter.cli import cli, load_model, read_applicants, read_scores
from starter.identity import NOT_SIGNED_IN
from store.account_models import Account, create_account, issue_token, revoke_token
from workflows.case_book import check_case_input
from workflows.step_outcome import outcome_of
from workflows.steps import CASE_STEPS
from workflows.types import (
    Actor,
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    ObjectionInput,
    ObjectionVerdictInput,
    PublicNoticeInput,
    Role,
    SelectionMethod,
    VoteInput,
    WithdrawInput,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
QUORUM_SENTENCE = "未达到法定到会人数：应到 11 人，实到 7 人，至少须 8 人到会"
NOT_VALID = "令牌无效或已被吊销"


class FakeHandle:
    def __init__(self, client: FakeClient, workflow_id: str) -> None:
        self.client = client
        self.id = workflow_id

    async def execute_update(self, update: str, arg: Any, result_type: Any = None) -> Any:
        self.client.updates.append((self.id, update, arg))
        refusal = self.client.refuse.get(self.id)
        if refusal:
            raise WorkflowUpdateFailedError(ApplicationError(refusal, non_retryable=True))
        return outcome_of(self.state(), update).model_dump(mode="json")

    async def query(self, name: str, **_: Any) -> CaseState:
        assert name == "state"
        return self.state()

    def state(self) -> CaseState:
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

    def get_workflow_handle(self, workflow_id: str, **_: Any) -> FakeHandle:
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


@dataclass(frozen=True)
class Person:
    """An account in the test database with a token; ``env`` gives the CLI both."""

    name: str
    role: Role
    token: str
    database_url: str

    @property
    def env(self) -> dict[str, str]:
        return {"APPOINTMENTS_TOKEN": self.token, "DATABASE_URL": self.database_url}

    @property
    def actor(self) -> Actor:
        return Actor(name=self.name, role=self.role)


@dataclass(frozen=True)
class People:
    clerk: Person
    secretary: Person
    auditor: Person
    revoked: Person  # its token was revoked
    disabled: Person  # its account was disabled


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def people(database_url: str, session_factory: async_sessionmaker[AsyncSession]) -> People:
    """Accounts of this module's own (the database is shared by the whole run)."""
    run = uuid.uuid4().hex[:6]
    made: list[Person] = []
    token_ids: list[int] = []
    async with session_factory() as s:
        for role, name in [
            (Role.CLERK, "张敏"),
            (Role.COMMITTEE_SECRETARY, "李卫东"),
            (Role.AUDITOR, "审计 孙"),
            (Role.CLERK, "调离 周"),
            (Role.CLERK, "停用 吴"),
        ]:
            await create_account(s, f"{name}-{run}", role)
            token_id, token = await issue_token(s, f"{name}-{run}")
            made.append(Person(f"{name}-{run}", role, token, database_url))
            token_ids.append(token_id)
        await revoke_token(s, token_ids[3])
        await s.execute(
            sa.update(Account).where(Account.name == made[4].name).values(disabled_at=sa.func.now())
        )
        await s.commit()
    return People(*made)


@pytest.fixture(autouse=True)
def no_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No token and no database unless a test gives them; the token file, where ``login``
    writes it, is the test's own (never the real one of whoever runs the tests)."""
    monkeypatch.delenv("APPOINTMENTS_TOKEN", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    token_file = tmp_path / "login" / "token"
    monkeypatch.setenv("APPOINTMENTS_TOKEN_FILE", str(token_file))
    return token_file


def invoke(
    args: list[str],
    who: Person | None = None,
    *,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    # An address nobody listens on: a command that did try to connect would fail with
    # status 3 and "cannot reach Temporal", never with the input errors asserted below.
    given = {"TEMPORAL_ADDRESS": "127.0.0.1:1", **(who.env if who else {}), **(env or {})}
    return CliRunner().invoke(cli, args, input=input, env=given, catch_exceptions=False)


# --------------------------------------------------------------------------- case files


def test_malformed_case_file_names_each_field(
    tmp_path: Path, connections: list[str], people: People
) -> None:
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
    result = invoke(["case", "start", str(bad)], people.clerk)
    assert result.exit_code == 2
    assert "unit: 「单位」必须填写" in result.stderr
    assert "positions: 「职数」应为整数" in result.stderr
    assert "candidates[0].birth_date:" in result.stderr
    assert connections == []


def test_case_file_with_a_yaml_syntax_error_names_the_line(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text("case_id: GY-2026-030\nunit: [县环保局\npost: 副局长\n", encoding="utf-8")
    result = invoke(["case", "start", str(bad)], people.clerk)
    assert result.exit_code == 2
    assert "不是有效的 YAML" in result.stderr
    assert "第 4 行" in result.stderr or "第 3 行" in result.stderr
    assert connections == []


def test_opened_by_comes_from_the_token_not_the_file(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    bad = tmp_path / "case.json"
    bad.write_text(
        '{"case_id": "GY-2026-030", "unit": "县环保局", "post": "副局长", "positions": 1,'
        ' "method": "open_selection", "opened_by": {"name": "某人", "role": "clerk"}}',
        encoding="utf-8",
    )
    result = invoke(["case", "start", str(bad)], people.clerk)
    assert result.exit_code == 2
    assert "文件中不能写 opened_by" in result.stderr
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


def test_a_case_file_says_whether_the_post_is_leading_and_each_move_a_promotion(
    tmp_path: Path,
) -> None:
    """Issue #16, class 6: both new, both optional (a file without them reads as before)."""
    text = (FIXTURES / "regular_case.yaml").read_text(encoding="utf-8")
    opened_by = {"opened_by": {"name": "张敏", "role": "clerk"}}
    before = load_model(CaseInput, FIXTURES / "regular_case.yaml", opened_by)
    assert before.leading_post and all(c.promotion for c in before.candidates)
    data = yaml.safe_load(text)
    data["leading_post"] = False
    data["candidates"][0]["promotion"] = False
    lateral = tmp_path / "lateral.yaml"
    lateral.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    case = load_model(CaseInput, lateral, opened_by)
    assert not case.leading_post
    assert [c.promotion for c in case.candidates] == [False, True, True]


# --------------------------------------------------------------------------- who records a step


def test_a_step_is_recorded_as_the_account_of_its_token(
    fake_client: FakeClient, people: People
) -> None:
    result = invoke(["case", "withdraw", "GY-2026-017", "--reason", "岗位撤销"], people.clerk)
    assert result.exit_code == 0, result.output
    [(_, update, arg)] = fake_client.updates
    assert update == "withdraw" and isinstance(arg, WithdrawInput)
    assert arg.actor == people.clerk.actor  # the account's name and role, from the database
    # a name and role of one's own choosing are no longer taken
    forged = ["--actor", "部长", "--role", "department_head", "case", "withdraw", "GY-2026-017"]
    result = invoke([*forged, "--reason", "x"], people.clerk)
    assert result.exit_code == 2 and "No such option" in result.stderr
    assert len(fake_client.updates) == 1


def test_a_step_without_a_token_is_refused_before_anything_is_read(
    tmp_path: Path, connections: list[str], no_login: Path
) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text("case_id: [GY-2026-030\n", "utf-8")  # not even YAML
    # and no DATABASE_URL: a command that went on would fail on the file or the database
    for token_file in ("absent", "empty"):
        if token_file == "empty":
            no_login.parent.mkdir(mode=0o700)
            no_login.write_text("\n", "utf-8")
            no_login.chmod(0o600)
        result = invoke(["case", "start", str(bad)])
        assert result.exit_code == 2, result.output
        assert result.stderr == f"错误：{NOT_SIGNED_IN}\n"
    result = invoke(["step", "withdraw", "GY-2026-017", "-"], input="reason: 岗位撤销\n")
    assert result.exit_code == 2 and NOT_SIGNED_IN in result.stderr
    assert connections == []


def test_a_token_that_is_not_valid_is_refused(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text("case_id: [GY-2026-030\n", "utf-8")
    url = people.clerk.database_url
    unknown = "Zq3" + people.clerk.token[3:]
    for token in (unknown, people.revoked.token, people.disabled.token, "令牌", "x" * 500):
        result = invoke(
            ["case", "start", str(bad)], env={"APPOINTMENTS_TOKEN": token, "DATABASE_URL": url}
        )
        assert result.exit_code == 1, (token, result.output)
        assert NOT_VALID in result.stderr and "环境变量 APPOINTMENTS_TOKEN" in result.stderr
        assert "YAML" not in result.stderr
    assert connections == []


def test_an_auditor_may_not_start_a_case(connections: list[str], people: People) -> None:
    result = invoke(["case", "start", str(FIXTURES / "regular_case.yaml")], people.auditor)
    assert result.exit_code == 1
    assert "未能办理：审计人员无权新建案件（新建案件由clerk (干部科工作人员)办理）" in result.stderr
    assert connections == []


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_login_keeps_the_token_for_the_next_commands_and_logout_forgets_it(
    fake_client: FakeClient, people: People, no_login: Path
) -> None:
    url = {"DATABASE_URL": people.clerk.database_url}
    result = invoke(["login"], input=people.clerk.token + "\n", env=url)
    assert result.exit_code == 0, result.output
    assert f"已登录：{people.clerk.name}，clerk" in result.stdout
    assert people.clerk.token not in result.output
    assert no_login.read_text("utf-8").strip() == people.clerk.token
    assert (_mode(no_login), _mode(no_login.parent)) == (0o600, 0o700)

    withdraw = ["case", "withdraw", "GY-2026-017", "--reason", "岗位撤销"]
    assert invoke(withdraw, env=url).exit_code == 0
    assert fake_client.updates[-1][2].actor == people.clerk.actor
    # APPOINTMENTS_TOKEN, when set, wins over the file
    assert invoke(withdraw, people.secretary).exit_code == 0
    assert fake_client.updates[-1][2].actor == people.secretary.actor

    result = invoke(["logout"])
    assert result.exit_code == 0 and "已退出" in result.stdout
    assert not no_login.exists()
    result = invoke(withdraw, env=url)
    assert result.exit_code == 2 and NOT_SIGNED_IN in result.stderr
    assert len(fake_client.updates) == 2
    result = invoke(["logout"])
    assert result.exit_code == 0 and "未登录" in result.stdout


def test_login_keeps_the_token_in_the_users_configuration_folder(
    people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APPOINTMENTS_TOKEN_FILE")
    url = {"DATABASE_URL": people.clerk.database_url}
    result = invoke(["login"], input=people.clerk.token + "\n", env=url)
    assert result.exit_code == 0, result.output
    kept = tmp_path / "config" / "appointments" / "token"  # click.get_app_dir, XDG_CONFIG_HOME
    assert (_mode(kept), _mode(kept.parent)) == (0o600, 0o700)
    assert invoke(["logout"]).exit_code == 0 and not kept.exists()


def test_login_refuses_a_token_that_is_not_valid_and_keeps_nothing(
    people: People, no_login: Path
) -> None:
    url = {"DATABASE_URL": people.clerk.database_url}
    for token in (people.revoked.token, people.disabled.token, "made-up"):
        result = invoke(["login"], input=token + "\n", env=url)
        assert result.exit_code == 1 and NOT_VALID in result.stderr, result.output
        assert not no_login.parent.exists()
    result = invoke(["login"], input="\n", env=url)
    assert result.exit_code == 2 and "没有读到令牌" in result.stderr
    # a bad token does not replace a good one
    assert invoke(["login"], input=people.clerk.token + "\n", env=url).exit_code == 0
    assert invoke(["login"], input=people.revoked.token + "\n", env=url).exit_code == 1
    assert no_login.read_text("utf-8").strip() == people.clerk.token
    assert [p.name for p in no_login.parent.iterdir()] == ["token"]


def test_login_asks_for_the_token_without_showing_it(
    people: People, no_login: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_cli, "_on_terminal", lambda: True)
    url = {"DATABASE_URL": people.clerk.database_url}
    result = invoke(["login"], input=people.clerk.token + "\n", env=url)
    assert result.exit_code == 0, result.output
    assert "令牌" in result.stderr and people.clerk.token not in result.output
    assert no_login.read_text("utf-8").strip() == people.clerk.token


def test_the_token_is_never_a_command_line_argument(people: People, no_login: Path) -> None:
    url = {"DATABASE_URL": people.clerk.database_url}
    result = invoke(["login", people.clerk.token], env=url)
    assert result.exit_code == 2 and not no_login.exists()
    result = invoke(["--token", people.clerk.token, "case", "list"], env=url)
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_a_token_file_others_can_read_is_refused(
    connections: list[str], people: People, no_login: Path
) -> None:
    url = {"DATABASE_URL": people.clerk.database_url}
    assert invoke(["login"], input=people.clerk.token + "\n", env=url).exit_code == 0
    no_login.chmod(0o644)
    result = invoke(["case", "withdraw", "GY-2026-017", "--reason", "x"], env=url)
    assert result.exit_code == 2 and "其他用户也能读取" in result.stderr
    assert connections == []


# --------------------------------------------------------------------------- CSV files


def test_csv_with_a_bad_score_names_line_and_column(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    scores = tmp_path / "written.csv"
    scores.write_text("person_id,score\nP-17001,78.5\nP-17002,八十\nP-17003,101\n", "utf-8")
    result = invoke(
        ["exam", "written", "GY-2026-017", str(scores), "--held-on", "2026-09-19"], people.clerk
    )
    assert result.exit_code == 2
    assert "written.csv，第 3 行，score 列：「成绩」应为数字" in result.stderr
    assert "written.csv，第 4 行，score 列：「成绩」不能大于 100" in result.stderr
    assert "未发送任何内容" in result.stderr
    assert connections == []


def test_applicants_csv_problems_name_line_and_column(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    lines = (FIXTURES / "applicants.csv").read_text("utf-8").splitlines()
    lines[2] = lines[2].replace(",是,", ",也许,")  # line 3: qualified
    lines[4] = lines[4].replace("2026-08-28", "2026-02-30")  # line 5: registered_on
    lines[5] = lines[5].replace("state_warning", "warning")  # line 6: sanction kind
    bad = tmp_path / "applicants.csv"
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    result = invoke(
        [
            "exam",
            "register",
            "GY-2026-017",
            str(bad),
            "--announced-on",
            "2026-08-24",
            "--closed-on",
            "2026-09-04",
        ],
        people.clerk,
    )
    assert result.exit_code == 2
    assert "第 3 行，qualified 列：应填 是 或 否" in result.stderr
    assert "第 5 行，registered_on 列：" in result.stderr
    assert "第 6 行，sanctions 列：「warning」不是处分种类" in result.stderr
    assert connections == []


def test_csv_with_a_missing_column_is_refused(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    scores = tmp_path / "interview.csv"
    scores.write_text("person_id,points\nP-17001,80\n", "utf-8")
    result = invoke(
        ["exam", "interview", "GY-2026-017", str(scores), "--held-on", "2026-10-17"], people.clerk
    )
    assert result.exit_code == 2
    assert "第 1 行：缺少列：score" in result.stderr
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


def test_a_malformed_date_option_exits_2(connections: list[str], people: People) -> None:
    result = invoke(
        ["inspection", "notice", "GY-2026-021", "--published-on", "2026/10/21"], people.clerk
    )
    assert result.exit_code == 2
    assert connections == []


# --------------------------------------------------------------------------- meetings


def test_meeting_without_quorum_is_refused_and_nothing_is_sent(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    text = (FIXTURES / "meeting.yaml").read_text("utf-8").replace("present: 9", "present: 7")
    meeting = tmp_path / "meeting.yaml"
    meeting.write_text(text, "utf-8")
    result = invoke(["vote", "record", str(meeting)], people.secretary)
    assert result.exit_code == 1
    assert f"未能办理：{QUORUM_SENTENCE}" in result.stderr
    assert "cannot reach Temporal" not in result.stderr
    assert connections == []


def test_one_bad_tally_refuses_the_whole_meeting(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    text = (FIXTURES / "meeting.yaml").read_text("utf-8").replace("agree: 9", "agree: 7")
    meeting = tmp_path / "meeting.yaml"
    meeting.write_text(text, "utf-8")
    result = invoke(["vote", "record", str(meeting)], people.secretary)
    assert result.exit_code == 1
    assert "P-21001 的表决票数合计 7 票，但到会 9 人" in result.stderr
    assert connections == []


def test_meeting_sends_one_vote_per_case(fake_client: FakeClient, people: People) -> None:
    result = invoke(["vote", "record", str(FIXTURES / "meeting.yaml")], people.secretary)
    assert result.exit_code == 0, result.output
    sent = {workflow_id: (update, arg) for workflow_id, update, arg in fake_client.updates}
    assert set(sent) == {"appointment-case-GY-2026-017", "appointment-case-GY-2026-021"}
    for update, arg in sent.values():
        assert update == "record_vote"
        assert isinstance(arg, VoteInput)
        assert (arg.meeting.members, arg.meeting.present) == (11, 9)
        assert arg.actor == people.secretary.actor
    assert [i.person_id for i in sent["appointment-case-GY-2026-017"][1].items] == ["P-17003"]
    assert "P-17003: 通过：应到 11 人，同意 8 人，至少须 6 人同意" in result.stdout
    assert "2 个案件均已登记" in result.stdout


def test_a_case_refusing_its_vote_is_reported_with_the_others(
    fake_client: FakeClient, people: People
) -> None:
    fake_client.refuse["appointment-case-GY-2026-017"] = "case GY-2026-017 is at stage inspection"
    result = invoke(["vote", "record", str(FIXTURES / "meeting.yaml")], people.secretary)
    assert result.exit_code == 1
    assert len(fake_client.updates) == 2  # the second case still got its vote
    assert "已登记：GY-2026-021" in result.stderr
    assert "未登记：GY-2026-017——case GY-2026-017 is at stage inspection" in result.stderr


def test_notice_file_publishes_to_each_case(fake_client: FakeClient, people: People) -> None:
    result = invoke(["notice", "publish", str(FIXTURES / "notice.yaml")], people.clerk)
    assert result.exit_code == 0, result.output
    assert [(w, u) for w, u, _ in fake_client.updates] == [
        ("appointment-case-GY-2026-017", "record_public_notice"),
        ("appointment-case-GY-2026-021", "record_public_notice"),
    ]
    arg = fake_client.updates[0][2]
    assert isinstance(arg, PublicNoticeInput)
    assert (arg.notice_id, arg.published_on) == ("GY-GS-2026-11", date(2026, 11, 12))


def test_a_refused_step_prints_the_rules_sentence(fake_client: FakeClient, people: People) -> None:
    fake_client.refuse["appointment-case-GY-2026-021"] = "inspection team needs at least 2 members"
    result = invoke(
        [
            "inspection",
            "team",
            "GY-2026-021",
            "--member",
            "赵强",
            "--started-on",
            "2026-10-23",
        ],
        people.clerk,
    )
    assert result.exit_code == 1
    assert "未能办理：inspection team needs at least 2 members" in result.stderr


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


def test_the_step_command_offers_every_row_of_the_table(people: People) -> None:
    result = invoke(["step", "--help"])
    assert result.exit_code == 0, result.output
    for update, row in CASE_STEPS.items():
        assert update in result.stdout and row.title in result.stdout
    refused = invoke(["step", "record_nothing", "C-1", "-"], people.clerk)
    assert refused.exit_code == 2 and "record_nothing" in refused.stderr


def test_the_step_command_checks_the_file_with_the_rows_model(
    tmp_path: Path, connections: list[str], people: People
) -> None:
    bad = tmp_path / "appointment.json"
    bad.write_text('{"person_id": "P-1", "notice_issued_on": "2026-13-01"}', "utf-8")
    result = invoke(["step", "record_appointment", "GY-2026-017", str(bad)], people.clerk)
    assert result.exit_code == 2
    assert "notice_issued_on" in result.stderr and "talk_by: 「谈话人」必须填写" in result.stderr
    forged = tmp_path / "forged.yaml"
    forged.write_text("actor: {name: 部长, role: department_head}\nreason: 不需要了\n", "utf-8")
    result = invoke(["step", "withdraw", "GY-2026-017", str(forged)], people.clerk)
    assert result.exit_code == 2 and "文件中不能写 actor" in result.stderr
    assert connections == []


def test_the_step_command_sends_any_row_from_standard_input(
    fake_client: FakeClient, people: People
) -> None:
    objection: dict[str, object] = {"objection_id": "O9", "person_id": "P-17003"}
    objection |= {"received_on": "2026-10-08", "summary": "反映其作风问题", "anonymous": True}
    result = invoke(
        ["step", "record_objection", "GY-2026-017", "-"],
        people.clerk,
        input=json.dumps(objection, ensure_ascii=False),
    )
    assert result.exit_code == 0, result.output
    [(workflow_id, update, arg)] = fake_client.updates
    assert (workflow_id, update) == ("appointment-case-GY-2026-017", "record_objection")
    assert isinstance(arg, ObjectionInput)
    assert (arg.actor, arg.objection_id) == (people.clerk.actor, "O9")


def test_one_verdict_is_sent_for_a_group_of_objections(
    fake_client: FakeClient, people: People
) -> None:
    args = ["notice", "verdict", "GY-2026-017", "O1", "--outcome", "no_problem"]
    args += ["--verified-on", "2026-10-09", "--finding", "经核查不属实"]
    result = invoke([*args, "--same-for", "O2", "--same-for", "O3"], people.clerk)
    assert result.exit_code == 0, result.output
    [(_, update, arg)] = fake_client.updates
    assert update == "record_objection_verdict" and isinstance(arg, ObjectionVerdictInput)
    assert (arg.objection_id, arg.same_for) == ("O1", ["O2", "O3"])


def test_an_applicant_may_be_marked_as_a_lateral_move(tmp_path: Path) -> None:
    """The optional promotion column: blank is a promotion (the stricter reading), no is a
    lateral move, which the accountability bar judges by its 12 months instead of 24."""
    text = (FIXTURES / "applicants.csv").read_text("utf-8").splitlines()
    header, first, second, *rest = text
    lines = [header + ",promotion", first + ",否", second + ","] + [r + "," for r in rest]
    marked = tmp_path / "applicants.csv"
    marked.write_text("\n".join(lines) + "\n", "utf-8")
    applicants = read_applicants(marked)
    assert [a.candidate.promotion for a in applicants[:2]] == [False, True]
