"""The command line: how the department's staff open cases and record each step of them.

Every command reads and checks all of its input (files, options, the rules that can be
checked without the case) before it talks to anything, so malformed input never leaves a
step half recorded. Steps go to the case's workflow as updates; the workflow's answer, the
case's state, is printed back. Listings and histories come from the database.

Exit status: 0 done; 1 refused (by a rule, or the case is missing or already exists);
2 malformed input; 3 Temporal, the database or the policy file cannot be reached;
70 a fault of this program (with a traceback).
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import os
import signal
import sys
import traceback
import unicodedata
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import yaml
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from settings import Settings, load_settings
from starter.audit_cli import audit
from starter.client import connect
from workflows.ids import case_workflow_id
from workflows.rules.errors import RuleViolation
from workflows.rules.working_days import SHANGHAI
from workflows.types import (
    Actor,
    Applicant,
    AppointmentInput,
    Candidate,
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    DemocraticEvaluationInput,
    ExamScoresInput,
    HigherApprovalInput,
    InspectionCheck,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Meeting,
    Model,
    ObjectionInput,
    ObjectionOutcome,
    ObjectionVerdictInput,
    PublicNoticeInput,
    RegistrationInput,
    RetryInput,
    Role,
    Score,
    SuspensionDecisionInput,
    VoteInput,
    VoteItem,
    VoteResult,
    WithdrawInput,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

EXIT_REFUSED = 1
EXIT_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_BUG = 70
EXIT_INTERRUPTED = 130

WORKFLOW_NAME = "AppointmentCaseWorkflow"
# An update waits for a worker to take it; without one it would wait for ever.
UPDATE_WAIT = timedelta(seconds=60)
QUERY_WAIT = timedelta(seconds=10)
STARTUP_WAIT = timedelta(seconds=5)
STARTUP_POLL_INTERVAL = 0.25  # seconds
PROGRESS_MIN_LINES = 200  # smaller files are read before a bar would be worth drawing
MAX_PROBLEMS_SHOWN = 30

# People record steps; the "system" role belongs to the workflow itself.
PERSON_ROLES = [r.value for r in Role if r is not Role.SYSTEM]

STAGE_LABELS: dict[CaseStage, str] = {
    CaseStage.EXAM: "考试",
    CaseStage.PRE_INSPECTION_APPROVAL: "考察前报批",
    CaseStage.INVESTIGATION_NOTICE: "考察预告",
    CaseStage.INSPECTION: "考察",
    CaseStage.HIGHER_APPROVAL: "上级审批",
    CaseStage.VOTE: "常委会票决",
    CaseStage.PUBLIC_NOTICE: "任前公示",
    CaseStage.APPOINTMENT: "任职",
    CaseStage.CLOSED: "已结束",
}

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- errors


class CliError(click.ClickException):
    """A failure the user can act on: printed as one "<prefix>: <message>" block."""

    exit_code = EXIT_REFUSED
    prefix = "error"

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{self.prefix}: {self.message}", file=file, err=file is None)


class Refused(CliError):
    """A rule refused the step; the message is the rule's sentence."""

    prefix = "refused"


class InputError(CliError):
    """The input is malformed; nothing was sent."""

    exit_code = EXIT_INPUT


class Unreachable(CliError):
    """Temporal, the database or the policy file cannot be reached or is not set up."""

    exit_code = EXIT_UNREACHABLE


def _problems(header: str, lines: Sequence[str]) -> str:
    shown = [f"  {line}" for line in lines[:MAX_PROBLEMS_SHOWN]]
    if len(lines) > MAX_PROBLEMS_SHOWN:
        shown.append(f"  … and {len(lines) - MAX_PROBLEMS_SHOWN} more")
    return "\n".join([header, *shown])


def _field_path(loc: Iterable[int | str]) -> str:
    """``candidates[0].birth_date``; empty for the top level."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _file_field(loc: tuple[int | str, ...]) -> str:
    return _field_path(loc) or "(the whole file)"


def _error_text(error: Any) -> str:
    """One pydantic error as a clerk reads it: the message, and the value when it helps."""
    message = str(error["msg"])
    value = error.get("input")
    if error["type"] == "missing" or not isinstance(value, str | int | float | date):
        return message
    hint = " — write it in quotes" if error["type"] == "string_type" else ""
    return f"{message} (got {value!r}){hint}"


def validation_lines(
    exc: ValidationError, name: Callable[[tuple[int | str, ...]], str] = _file_field
) -> list[str]:
    """``field.path: message`` for each error, with ``name`` spelling the field."""
    return [f"{name(tuple(e['loc']))}: {_error_text(e)}" for e in exc.errors(include_url=False)]


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class App:
    settings: Settings
    actor_name: str | None
    role: Role | None

    def actor(self) -> Actor:
        """Who records the step; refused before anything is read if not given."""
        if not self.actor_name or self.role is None:
            raise InputError(
                "recording a step needs to know who does it: give --actor NAME and --role "
                "ROLE before the command (or set APPOINTMENTS_ACTOR and APPOINTMENTS_ROLE)"
            )
        try:
            return Actor(name=self.actor_name, role=self.role)
        except ValidationError as exc:
            raise InputError(_problems("--actor is not usable:", validation_lines(exc))) from exc


pass_app = click.make_pass_decorator(App)


class DateType(click.ParamType):
    """A calendar date written YYYY-MM-DD."""

    name = "YYYY-MM-DD"
    _parser = click.DateTime(formats=["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        return self._parser.convert(value, param, ctx).date()


DATE = DateType()


def _choice(enum: type[Enum]) -> click.Choice:
    return click.Choice([str(e.value) for e in enum])


def build(model: type[M], fields: dict[str, Any], positional: Collection[str] = ()) -> M:
    """The update's input from command-line values; a bad value names its option."""

    def name(loc: tuple[int | str, ...]) -> str:
        field = str(loc[0]) if loc else ""
        if field in positional:
            return field.upper()
        return f"--{field.replace('_', '-')}" + _field_path(loc[1:])

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        lines = validation_lines(exc, name)
        raise InputError(_problems("the values given are not usable:", lines)) from exc


# --------------------------------------------------------------------------- files


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 (in Excel: “CSV UTF-8”)"
        ) from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror}") from exc


class _YamlLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: a date stays text for pydantic to check, so an
    impossible date (1985-13-01) is reported with its field instead of failing the parse."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_data_file(path: Path) -> Any:
    """The content of a YAML or JSON file, chosen by its extension."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise InputError(f"{path}: unknown file type {suffix or '(none)'!r}; use .yaml or .json")
    text = _read_text(path)
    # both parsers recurse once per level of nesting: junk nested hundreds deep exhausts the stack
    too_deep = f"{path}: nested too deeply to be read (lists or mappings hundreds of levels deep)"
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        except RecursionError as exc:
            raise InputError(too_deep) from exc
    try:
        return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader: builds no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{path}: {where}not valid YAML: {problem}") from exc
    except RecursionError as exc:
        raise InputError(too_deep) from exc


def load_model(model: type[M], path: Path, extra: dict[str, Any] | None = None) -> M:
    data = load_data_file(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of fields at the top of the file")
    if extra:
        clash = sorted(set(extra) & set(data))
        if clash:
            raise InputError(
                f"{path}: {', '.join(clash)} must not be in the file; it comes from "
                "--actor and --role"
            )
        data = {**data, **extra}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        count = exc.error_count()
        header = f"{path}: {count} problem{'s' if count > 1 else ''}:"
        raise InputError(_problems(header, validation_lines(exc))) from exc


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the record starts in the file, 1-based
    cells: dict[str, str]


class CsvProblems:
    """Every problem of a CSV file, each naming its line and column; raised all at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[tuple[int, str]] = []

    def add(self, line: int, column: str | None, message: str) -> None:
        where = f"line {line}" + (f", column {column}" if column else "")
        self.found.append((line, f"{self.path.name}, {where}: {message}"))

    def raise_if_any(self) -> None:
        if self.found:
            n = len(self.found)
            header = f"{self.path}: {n} problem{'s' if n > 1 else ''}, nothing was sent:"
            lines = [text for _, text in sorted(self.found, key=lambda f: f[0])]
            raise InputError(_problems(header, lines))


def _counted(lines: Sequence[str], bar: Any) -> Iterator[str]:
    for line in lines:
        bar.update(1)
        yield line


def read_csv(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> list[CsvRow]:
    """Rows of a CSV file with a header line; unknown or missing columns are refused."""
    text = _read_text(path)
    lines = text.splitlines(keepends=True)
    problems = CsvProblems(path)
    rows: list[CsvRow] = []
    with click.progressbar(
        length=len(lines),
        label=f"reading {path.name}",
        file=sys.stderr,
        hidden=len(lines) < PROGRESS_MIN_LINES,
    ) as bar:
        reader = csv.reader(_counted(lines, bar))
        header: list[str] | None = None
        last_line = 0
        try:
            for record in reader:
                start, last_line = last_line + 1, reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in record]
                    _check_header(header, required, optional, start, problems)
                    problems.raise_if_any()
                    continue
                if len(record) != len(header):
                    problems.add(
                        start, None, f"{len(record)} values, but the header has {len(header)}"
                    )
                    continue
                rows.append(CsvRow(start, dict(zip(header, record, strict=True))))
        except csv.Error as exc:
            problems.add(reader.line_num, None, f"not valid CSV: {exc}")
    if header is None:
        problems.add(1, None, f"the file is empty; expected the header {','.join(required)}")
    elif not rows and not problems.found:
        problems.add(last_line, None, "the file has a header but no rows")
    problems.raise_if_any()
    return rows


def _check_header(
    header: list[str],
    required: Sequence[str],
    optional: Sequence[str],
    line: int,
    problems: CsvProblems,
) -> None:
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if missing:
        problems.add(
            line, None, f"missing column{'s' if len(missing) > 1 else ''}: " + ", ".join(missing)
        )
    if unknown:
        allowed = ", ".join([*required, *optional])
        problems.add(line, None, f"unknown column(s): {', '.join(unknown)} (allowed: {allowed})")
    if repeated:
        problems.add(line, None, f"repeated column(s): {', '.join(repeated)}")


_TRUE = {"yes", "y", "true", "1", "是"}
_FALSE = {"no", "n", "false", "0", "否"}


def parse_flag(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"write yes or no (是/否), not {text!r}" if value else "missing value")


def parse_sanctions(text: str) -> list[dict[str, str]]:
    """``kind:YYYY-MM-DD;kind:YYYY-MM-DD`` (留党察看 may add ``:restored-on``)."""
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        pieces = [p.strip() for p in part.split(":")]
        if len(pieces) not in (2, 3) or not all(pieces):
            raise ValueError(f"{part!r} is not kind:YYYY-MM-DD")
        sanction = {"kind": pieces[0], "decided_on": pieces[1]}
        if len(pieces) == 3:
            sanction["rights_restored_on"] = pieces[2]
        out.append(sanction)
    return out


def _row_model(
    model: type[M],
    data: dict[str, Any],
    row: CsvRow,
    problems: CsvProblems,
    reported: Collection[str] = (),
) -> M | None:
    """The row's model, or None with its problems added; columns in ``reported`` already
    have theirs."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = [p for p in error["loc"] if p != "candidate"]
            column = str(loc[0]) if loc else None
            if column in reported:
                continue
            rest = loc[1:]
            prefix = ""
            if rest and isinstance(rest[0], int):  # the n-th sanction of the cell
                prefix = f"item {rest[0] + 1}" + (f" {rest[1]}" if len(rest) > 1 else "") + ": "
            text = "missing value" if error["type"] == "missing" else _error_text(error)
            problems.add(row.line, column, prefix + text)
        return None


def _check_unique(rows: Sequence[CsvRow], column: str, problems: CsvProblems) -> None:
    first: dict[str, int] = {}
    for row in rows:
        key = row.cells.get(column, "").strip()
        if key and key in first:
            problems.add(row.line, column, f"{key} already appears on line {first[key]}")
        first.setdefault(key, row.line)


APPLICANT_COLUMNS = (
    "person_id",
    "name",
    "sex",
    "birth_date",
    "current_post",
    "current_rank",
    "registered_on",
    "qualified",
    "reason",
)
APPLICANT_OPTIONAL = (
    "sanctions",
    "ethnicity",
    "party_member",
    "education",
    "work_started_on",
    "short_cv",
    "last_promotion_on",
    "on_probation",
)
_FLAG_COLUMNS = ("party_member", "on_probation")
# the columns that are the candidate's own fields, taken as written
_CANDIDATE_COLUMNS = tuple(
    c
    for c in (*APPLICANT_COLUMNS, *APPLICANT_OPTIONAL)
    if c in Candidate.model_fields and c not in (*_FLAG_COLUMNS, "sanctions")
)


def read_applicants(path: Path) -> list[Applicant]:
    rows = read_csv(path, APPLICANT_COLUMNS, APPLICANT_OPTIONAL)
    problems = CsvProblems(path)
    _check_unique(rows, "person_id", problems)
    applicants: list[Applicant] = []
    for row in rows:
        cells = {k: v.strip() for k, v in row.cells.items()}
        candidate: dict[str, Any] = {k: cells[k] for k in _CANDIDATE_COLUMNS if cells.get(k)}
        data: dict[str, Any] = {
            "candidate": candidate,
            "registered_on": cells["registered_on"] or None,
            "reason": cells["reason"],
        }
        reported: set[str] = set()
        for column, target in [("qualified", data)] + [(c, candidate) for c in _FLAG_COLUMNS]:
            if column == "qualified" or cells.get(column):
                try:
                    target[column] = parse_flag(cells[column])
                except ValueError as exc:
                    problems.add(row.line, column, str(exc))
                    reported.add(column)
        try:
            candidate["sanctions"] = parse_sanctions(cells.get("sanctions", ""))
        except ValueError as exc:
            problems.add(row.line, "sanctions", str(exc))
            reported.add("sanctions")
        applicant = _row_model(Applicant, data, row, problems, reported)
        if applicant is not None and not reported:
            applicants.append(applicant)
    problems.raise_if_any()
    return applicants


def read_scores(path: Path) -> list[Score]:
    rows = read_csv(path, ("person_id", "score"))
    problems = CsvProblems(path)
    _check_unique(rows, "person_id", problems)
    scores: list[Score] = []
    for row in rows:
        data = {k: v.strip() for k, v in row.cells.items() if v.strip()}
        score = _row_model(Score, data, row, problems)
        if score is not None:
            scores.append(score)
    problems.raise_if_any()
    return scores


# --------------------------------------------------------------------------- multi-case files


class MeetingItem(VoteItem):
    case_id: str = Field(min_length=1)


class MeetingFile(Meeting):
    """A standing-committee meeting as the secretary records it: attendance once, then the
    items of every case decided at it."""

    items: list[MeetingItem] = Field(min_length=1)

    def meeting(self) -> Meeting:
        return Meeting.model_validate(self.model_dump(exclude={"items"}))


class NoticeFile(Model):
    """One pre-appointment notice (任前公示) covering the candidates of several cases."""

    notice_id: str = Field(min_length=1)
    published_on: date
    case_ids: list[str] = Field(min_length=1)


def _by_case(items: Iterable[MeetingItem]) -> dict[str, list[VoteItem]]:
    grouped: dict[str, list[VoteItem]] = {}
    for item in items:
        vote = VoteItem.model_validate(item.model_dump(exclude={"case_id"}))
        grouped.setdefault(item.case_id, []).append(vote)
    return grouped


def check_meeting(path: Path, file: MeetingFile) -> dict[tuple[str, str], str]:
    """Every rule of the vote that needs no case; the decision of each item, described."""
    from workflows.rules import vote

    meeting = file.meeting()
    seen: set[tuple[str, str]] = set()
    repeated = []
    for i, item in enumerate(file.items):
        key = (item.case_id, item.person_id)
        if key in seen:
            repeated.append(f"items[{i}]: {item.person_id} of case {item.case_id} is listed twice")
        seen.add(key)
    if repeated:
        raise InputError(_problems(f"{path}:", repeated))
    try:
        vote.check_quorum(meeting.members, meeting.present)
    except RuleViolation as exc:
        raise Refused(exc.message) from exc
    results: dict[tuple[str, str], str] = {}
    refusals = []
    for i, item in enumerate(file.items):
        try:
            result: VoteResult = vote.decide_item(meeting, item)
        except RuleViolation as exc:
            refusals.append(f"items[{i}] (case {item.case_id}): {exc.message}")
            continue
        results[(item.case_id, item.person_id)] = vote.describe_result(meeting, item, result)
    if refusals:
        raise Refused(_problems(f"{path}: nothing was sent:", refusals))
    return results


# --------------------------------------------------------------------------- Temporal


def _temporal_unreachable(settings: Settings, detail: str = "") -> Unreachable:
    message = f"cannot reach Temporal at {settings.temporal_address} — is `./dev run` running?"
    return Unreachable(message + (f"\n  ({detail})" if detail else ""))


def is_connect_failure(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect")


async def open_client(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:
        if is_connect_failure(exc):
            raise _temporal_unreachable(settings) from exc
        raise


def _rpc_problem(exc: RPCError, settings: Settings, case_id: str) -> CliError:
    if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return _temporal_unreachable(settings, exc.message)
    if exc.status == RPCStatusCode.NOT_FOUND:
        if "completed" in exc.message.lower():
            return CliError(f"case {case_id} has ended; no step can be recorded on it")
        return CliError(f"no case {case_id} (no workflow {case_workflow_id(case_id)})")
    return CliError(f"Temporal did not take the step for case {case_id}: {exc.message}")


def _refusal(exc: WorkflowUpdateFailedError) -> str:
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause) or type(cause).__name__


async def execute_update(
    client: Client, settings: Settings, case_id: str, update: str, arg: BaseModel
) -> CaseState:
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        return await asyncio.wait_for(
            handle.execute_update(update, arg, result_type=CaseState),
            UPDATE_WAIT.total_seconds(),
        )
    except WorkflowUpdateFailedError as exc:
        raise Refused(_refusal(exc)) from exc
    except RPCError as exc:
        raise _rpc_problem(exc, settings, case_id) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise Unreachable(
            f"case {case_id}: no worker answered within {UPDATE_WAIT.seconds} s — is the "
            "worker running? The step may still be recorded when it comes back; check with "
            f"`appointments case show {case_id}`"
        ) from exc


def record_step(app: App, case_id: str, update: str, arg: BaseModel) -> CaseState:
    """Send one step to one case and print where the case stands afterwards."""

    async def send() -> CaseState:
        client = await open_client(app.settings)
        return await execute_update(client, app.settings, case_id, update, arg)

    state = asyncio.run(send())
    echo_state(state)
    return state


@dataclass(frozen=True)
class Send:
    case_id: str
    arg: BaseModel
    details: tuple[str, ...] = ()  # printed under the case's result


def record_many(app: App, update: str, sends: Sequence[Send]) -> None:
    """One update per case, in order; a refusal does not stop the others, a lost connection
    does. At the end, which cases have the step and which have not."""
    recorded: list[str] = []
    failed: list[tuple[str, str]] = []
    unsent: list[str] = []

    async def run() -> Unreachable | None:
        client = await open_client(app.settings)
        for i, send in enumerate(sends):
            click.echo(f"[{i + 1}/{len(sends)}] case {send.case_id}: {update} …", err=True)
            try:
                state = await execute_update(client, app.settings, send.case_id, update, send.arg)
            except Unreachable as exc:
                unsent.extend(s.case_id for s in sends[i:])
                return exc
            except CliError as exc:
                failed.append((send.case_id, exc.message))
                click.echo(f"  {exc.prefix}: {exc.message}", err=True)
                continue
            recorded.append(send.case_id)
            echo_state(state)
            for line in send.details:
                click.echo(f"    {line}")
        return None

    lost = asyncio.run(run())
    if not failed and lost is None:
        click.echo(f"recorded for all {len(recorded)} case(s)")
        return
    summary = [f"recorded: {', '.join(recorded) or 'none'}"]
    summary += [f"not recorded: {case_id} — {why}" for case_id, why in failed]
    if unsent:
        summary.append(f"not sent: {', '.join(unsent)}")
    if lost is not None:
        raise Unreachable(lost.message + "\n" + "\n".join(summary))
    raise Refused(_problems(f"{len(failed)} of {len(sends)} case(s) refused the step:", summary))


async def query_state(
    client: Client, settings: Settings, case_id: str
) -> tuple[CaseState | None, str]:
    """The live state, or why there is none (never raises for a missing or idle workflow)."""
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        state = await handle.query("state", result_type=CaseState, rpc_timeout=QUERY_WAIT)
        return state, ""
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None, "Temporal has no workflow for this case"
        if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED) or (
            "timeout" in exc.message.lower()
        ):
            return None, f"no worker answered within {QUERY_WAIT.seconds} s"
        if exc.status == RPCStatusCode.UNAVAILABLE:
            return None, _temporal_unreachable(settings).message
        return None, exc.message
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        return None, str(exc)


async def first_state(
    client: Client, settings: Settings, case_id: str
) -> tuple[CaseState | None, str]:
    """The state of a case just started, once it has its first step (or after a few seconds:
    the first deadline needs the calendar, read by an activity)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + STARTUP_WAIT.total_seconds()
    while True:
        state, why = await query_state(client, settings, case_id)
        settled = state is not None and (
            state.step is not None or state.status is not CaseStatus.ACTIVE
        )
        if settled or loop.time() >= give_up:
            return state, why
        await asyncio.sleep(STARTUP_POLL_INTERVAL)


# --------------------------------------------------------------------------- database


def _safe_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


def _database_url(settings: Settings) -> str:
    from store.db import to_async_url

    if not settings.database_url:
        raise Unreachable(
            "DATABASE_URL is not set; point it at the application database "
            "(postgresql+asyncpg://...)"
        )
    try:
        to_async_url(settings.database_url)
    except ValueError as exc:
        raise Unreachable(f"DATABASE_URL is not usable: {exc}") from exc
    return settings.database_url


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One session on the application database; connection problems become exit status 3."""
    from sqlalchemy.exc import DBAPIError

    from store.db import make_engine, make_session_factory

    url = _database_url(settings)
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            yield session
    except (OSError, DBAPIError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        hint = " — run `appointments migrate`" if detail.startswith("relation") else ""
        raise Unreachable(f"cannot use the database at {_safe_url(url)}: {detail}{hint}") from exc
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------- output


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(_pad(str(c), w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_deadline(at: datetime | None) -> str:
    """A deadline as people say it: "2026-05-12" for the end of that day."""
    if at is None:
        return "-"
    local = at.astimezone(SHANGHAI) if at.tzinfo else at
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return (local.date() - timedelta(days=1)).isoformat()
    return local.strftime("%Y-%m-%d %H:%M")


def format_instant(at: datetime) -> str:
    return (at.astimezone(SHANGHAI) if at.tzinfo else at).strftime("%Y-%m-%d %H:%M")


def stage_text(stage: CaseStage) -> str:
    return f"{stage.value} ({STAGE_LABELS[stage]})"


def standing(state: CaseState) -> list[str]:
    """Where a case stands: its stage, and what it waits for until when."""
    lines = [f"stage {stage_text(state.stage)}, {state.status.value}"]
    step = state.step
    if state.status is not CaseStatus.ACTIVE:
        lines.append(f"closed: {state.outcome_reason or state.status.value}")
    elif step is None:
        lines.append("next deadline: none (the case waits for a period to run, not for a person)")
    else:
        overdue = "  OVERDUE" if step.overdue else ""
        lines.append(
            f"next: {step.step} ({step.responsible_role.value}), "
            f"deadline {format_deadline(step.deadline_at)}{overdue}"
        )
        if step.blocked_reason:
            lines.append(
                f"blocked: {step.blocked_reason} — once resolved: "
                f"appointments retry {state.case_id}"
            )
    return lines


def echo_state(state: CaseState) -> None:
    first, *rest = standing(state)
    click.echo(f"case {state.case_id}: {first}")
    for line in rest:
        click.echo(f"  {line}")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _rows_json(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in rows]


def echo_case_details(state: CaseState) -> None:
    s = state
    click.echo(
        f"case {s.case_id}  {s.unit} · {s.post} · {s.method.value} · "
        f"{s.positions} position{'s' if s.positions > 1 else ''}"
    )
    extras = [f"opened {s.opened_on}"]
    if s.policy_version:
        extras.append(f"policy {s.policy_version}")
    if s.probation_required:
        extras.append("probation required")
    if s.economic_audit_required:
        extras.append("economic audit required")
    click.echo("  " + " · ".join(extras))
    for line in standing(s):
        click.echo(f"  {line}")
    if s.candidates:
        click.echo("candidates:")
        width = max(_width(c.name) for c in s.candidates)
        status_width = max(len(c.status.value) for c in s.candidates)
        for c in s.candidates:
            facts = [
                f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}"
                for label, value in (
                    ("written", c.written_score),
                    ("interview", c.interview_score),
                    ("total", c.total_score),
                    ("rank", c.rank),
                    ("vote", c.vote.value if c.vote else None),
                    ("suspended until", c.suspended_until),
                )
                if value is not None
            ]
            if c.exceptional:
                facts.append("exceptional promotion (破格)")
            if c.reminded:
                facts.append("reminded (提醒)")
            click.echo(
                f"  {c.person_id}  {_pad(c.name, width)}  {c.status.value:<{status_width}}"
                + (f"  {' · '.join(facts)}" if facts else "")
            )
            if c.checks:
                done = ", ".join(f"{k} {v}" for k, v in c.checks.items())
                click.echo(f"      checks: {done}")
            if c.note:
                click.echo(f"      {c.note}")
    if s.inspection_team:
        click.echo(f"inspection team: {', '.join(s.inspection_team)}")
    if s.one_to_one_reason:
        click.echo(f"one-to-one (等额) because: {s.one_to_one_reason}")
    if s.dates:
        click.echo("dates: " + " · ".join(f"{k} {v}" for k, v in s.dates.items()))
    if s.notice_id:
        click.echo(f"public notice: {s.notice_id}")
    for o in s.objections:
        outcome = f"{o.outcome.value} on {o.verified_on}" if o.outcome else "not yet verified"
        who = " (anonymous)" if o.anonymous else ""
        click.echo(
            f"objection {o.objection_id} about {o.person_id}, received {o.received_on}"
            f"{who}: {outcome}"
        )


# --------------------------------------------------------------------------- the group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--actor",
    envvar="APPOINTMENTS_ACTOR",
    metavar="NAME",
    help="who records the step (env APPOINTMENTS_ACTOR)",
)
@click.option(
    "--role",
    envvar="APPOINTMENTS_ROLE",
    type=click.Choice(PERSON_ROLES),
    help="the recorder's role (env APPOINTMENTS_ROLE)",
)
@click.pass_context
def cli(ctx: click.Context, actor: str | None, role: str | None) -> None:
    """Cadre-appointment cases of the organization department (组织部)."""
    ctx.obj = App(load_settings(), actor.strip() if actor else None, Role(role) if role else None)


@cli.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="where the stack keeps its state (default: DATA_DIR)",
)
@click.option("--ui-port", type=int, default=8233, show_default=True, help="Temporal Web UI")
@click.option("--temporal-port", type=int, default=7233, show_default=True, help="Temporal gRPC")
@click.option("--api-port", type=int, default=8000, show_default=True, help="the HTTP API")
@click.pass_context
def serve(
    ctx: click.Context, data_dir: Path | None, ui_port: int, temporal_port: int, api_port: int
) -> None:
    """Run Temporal, PostgreSQL, the worker and the HTTP API on this machine (embedded stack)."""
    from starter.embedded import run_serve_command

    ctx.exit(run_serve_command(data_dir, ui_port, temporal_port, api_port))


@cli.command()
@pass_app
def worker(app: App) -> None:
    """Run the appointment worker against TEMPORAL_ADDRESS until stopped (Ctrl-C)."""
    from worker import run_worker

    _database_url(app.settings)  # the worker records every case there

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(app.settings, stop=stop)

    try:
        asyncio.run(run())
    except RuntimeError as exc:
        if is_connect_failure(exc):
            raise _temporal_unreachable(app.settings) from exc
        raise


@cli.command()
@pass_app
def migrate(app: App) -> None:
    """Bring the database named by DATABASE_URL to the latest schema."""
    from sqlalchemy.exc import DBAPIError

    from store.migrate import upgrade_to_head

    url = _database_url(app.settings)
    try:
        asyncio.run(upgrade_to_head(url))
    except (OSError, DBAPIError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Unreachable(f"cannot migrate the database at {_safe_url(url)}: {detail}") from exc
    click.echo(f"the database at {_safe_url(url)} is at the latest schema")


# --------------------------------------------------------------------------- case


@cli.group()
def case() -> None:
    """Open, list, show and withdraw cases."""


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _recommendation_valid_months(settings: Settings) -> int:
    from workflows.policy import parse_policy

    path = settings.policy_file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Unreachable(f"cannot read the policy file {path}: {exc.strerror}") from exc
    try:
        loaded = parse_policy(text, str(path))
    except (ValueError, ValidationError) as exc:
        lines = str(exc).splitlines()
        raise Unreachable(_problems(f"the policy file {path} is not usable:", lines)) from exc
    return int(loaded.policy.recommendation.valid_months)


@case.command("start")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def case_start(app: App, file: Path) -> None:
    """Open a case from FILE (YAML or JSON: a case without `opened_by`)."""
    from workflows.case_book import check_case_input

    actor = app.actor()
    case_input = load_model(CaseInput, file, {"opened_by": actor.model_dump(mode="json")})
    try:
        check_case_input(case_input, _today(), _recommendation_valid_months(app.settings))
    except RuleViolation as exc:
        raise Refused(exc.message) from exc

    async def start() -> tuple[CaseState | None, str]:
        client = await open_client(app.settings)
        try:
            handle = await client.start_workflow(
                WORKFLOW_NAME,
                case_input,
                id=case_workflow_id(case_input.case_id),
                task_queue=app.settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError as exc:
            raise CliError(f"case {case_input.case_id} already exists") from exc
        except RPCError as exc:
            raise _rpc_problem(exc, app.settings, case_input.case_id) from exc
        click.echo(f"case {case_input.case_id} started (workflow {handle.id})")
        return await first_state(client, app.settings, case_input.case_id)

    state, why = asyncio.run(start())
    if state is not None:
        echo_state(state)
    else:
        click.echo(f"  its state is not available yet: {why}")


@case.command("list")
@click.option("--stage", type=_choice(CaseStage))
@click.option("--status", type=_choice(CaseStatus))
@click.option("--unit", help="exactly as written in the case file")
@click.option("--overdue", is_flag=True, default=None, help="only cases past a deadline")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_app
def case_list(
    app: App,
    stage: str | None,
    status: str | None,
    unit: str | None,
    overdue: bool | None,
    limit: int,
    as_json: bool,
) -> None:
    """Cases, the nearest deadline first."""
    from store.queries import list_cases

    async def read() -> list[Any]:
        async with database(app.settings) as session:
            return await list_cases(
                session,
                stage=stage,
                status=status,
                unit=unit,
                overdue=overdue or None,
                limit=limit,
            )

    rows = asyncio.run(read())
    if as_json:
        echo_json(_rows_json(rows))
        return
    if not rows:
        click.echo("no cases")
        return
    click.echo(
        table(
            ["CASE", "UNIT", "POST", "STAGE", "STATUS", "NEXT DEADLINE", "OVERDUE"],
            [
                [
                    r.case_id,
                    r.unit,
                    r.post,
                    r.stage.value,
                    r.status.value,
                    format_deadline(r.next_deadline),
                    "overdue" if r.overdue else "",
                ]
                for r in rows
            ],
        )
    )


@case.command("show")
@click.argument("case_id", metavar="CASE")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_app
def case_show(app: App, case_id: str, as_json: bool) -> None:
    """The live state of CASE (from Temporal) and its history (from the database)."""
    from store.queries import case_history, get_case

    async def live() -> tuple[CaseState | None, str]:
        try:
            client = await open_client(app.settings)
        except Unreachable as exc:
            return None, exc.message
        return await query_state(client, app.settings, case_id)

    async def recorded() -> tuple[Any, list[Any], str]:
        try:
            async with database(app.settings) as session:
                return await get_case(session, case_id), await case_history(session, case_id), ""
        except Unreachable as exc:
            return None, [], exc.message

    async def both() -> tuple[tuple[CaseState | None, str], tuple[Any, list[Any], str]]:
        return await asyncio.gather(live(), recorded())

    (state, live_note), (row, history, db_note) = asyncio.run(both())
    if state is None and row is None:
        if db_note and live_note:
            raise Unreachable(
                _problems(
                    f"case {case_id} cannot be shown:",
                    [f"live state: {live_note}", f"history: {db_note}"],
                )
            )
        raise CliError(f"no case {case_id}")
    history = sorted(history, key=lambda e: (e.occurred_at, e.seq))
    if as_json:
        echo_json(
            {
                "state": state.model_dump(mode="json") if state else None,
                "case": dataclasses.asdict(row) if row else None,
                "history": _rows_json(history),
                "notes": [n for n in (live_note, db_note) if n],
            }
        )
        return
    if state is not None:
        echo_case_details(state)
    else:
        click.echo(f"case {row.case_id}  {row.unit} · {row.post} · {row.method.value}")
        click.echo(
            f"  stage {stage_text(row.stage)}, {row.status.value}; next deadline "
            f"{format_deadline(row.next_deadline)}{'  OVERDUE' if row.overdue else ''}"
        )
        click.echo(f"  (live state not available: {live_note})", err=True)
    if db_note:
        click.echo(f"(history not available: {db_note})", err=True)
        return
    click.echo(f"history ({len(history)} event{'s' if len(history) != 1 else ''}):")
    kind_width = max((len(e.kind) for e in history), default=0)
    for e in history:
        click.echo(
            f"  {format_instant(e.occurred_at)}  #{e.seq:<3} {e.kind:<{kind_width}} "
            f"[{e.stage.value}] {e.summary} — {e.actor_name} ({e.actor_role.value})"
        )


@case.command("withdraw")
@click.argument("case_id", metavar="CASE")
@click.option("--reason", required=True)
@pass_app
def case_withdraw(app: App, case_id: str, reason: str) -> None:
    """Withdraw CASE (it closes as withdrawn)."""
    arg = build(WithdrawInput, {"actor": app.actor(), "reason": reason})
    record_step(app, case_id, "withdraw", arg)


# --------------------------------------------------------------------------- exam


@cli.group()
def exam() -> None:
    """Registration, written test and interview of an open selection or competitive case."""


CSV_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@exam.command("register")
@click.argument("case_id", metavar="CASE")
@click.argument("file", metavar="FILE.csv", type=CSV_FILE)
@click.option("--announced-on", type=DATE, required=True)
@click.option("--closed-on", type=DATE, required=True)
@pass_app
def exam_register(app: App, case_id: str, file: Path, announced_on: date, closed_on: date) -> None:
    """Record the applicants and the eligibility check (资格审查) from FILE.csv.

    Columns: person_id,name,sex,birth_date,current_post,current_rank,registered_on,qualified,
    reason; optional: sanctions (kind:YYYY-MM-DD;...), ethnicity, party_member, education,
    work_started_on, short_cv, last_promotion_on, on_probation. qualified is yes/no (是/否).
    """
    actor = app.actor()
    applicants = read_applicants(file)
    arg = build(
        RegistrationInput,
        {
            "actor": actor,
            "announced_on": announced_on,
            "closed_on": closed_on,
            "applicants": applicants,
        },
    )
    record_step(app, case_id, "record_registration", arg)


def _scores_command(update: str, what: str) -> click.Command:
    @click.argument("case_id", metavar="CASE")
    @click.argument("file", metavar="FILE.csv", type=CSV_FILE)
    @click.option("--held-on", type=DATE, required=True)
    @pass_app
    def command(app: App, case_id: str, file: Path, held_on: date) -> None:
        actor = app.actor()
        scores = read_scores(file)
        arg = build(ExamScoresInput, {"actor": actor, "held_on": held_on, "scores": scores})
        record_step(app, case_id, update, arg)

    command.__doc__ = f"Record the {what} scores from FILE.csv (columns person_id,score)."
    return click.command()(command)


exam.add_command(_scores_command("record_written_test", "written test (笔试)"), "written")
exam.add_command(_scores_command("record_interview", "interview (面试)"), "interview")


# --------------------------------------------------------------------------- inspection


@cli.group()
def inspection() -> None:
    """Investigation notice, the inspection team, its checks and its conclusion."""


@inspection.command("notice")
@click.argument("case_id", metavar="CASE")
@click.option("--published-on", type=DATE, required=True)
@click.option(
    "--one-to-one-reason",
    default="",
    help="why there are no more candidates than posts (等额), when so",
)
@pass_app
def inspection_notice(app: App, case_id: str, published_on: date, one_to_one_reason: str) -> None:
    """Record the publication of the investigation notice (考察预告)."""
    arg = build(
        InvestigationNoticeInput,
        {
            "actor": app.actor(),
            "published_on": published_on,
            "one_to_one_reason": one_to_one_reason,
        },
    )
    record_step(app, case_id, "record_investigation_notice", arg)


@inspection.command("team")
@click.argument("case_id", metavar="CASE")
@click.option("--member", "members", multiple=True, required=True, help="repeat for each member")
@click.option("--started-on", type=DATE, required=True)
@pass_app
def inspection_team(app: App, case_id: str, members: tuple[str, ...], started_on: date) -> None:
    """Record the inspection team (at least two) and the day it started."""
    arg = build(
        InspectionTeamInput,
        {"actor": app.actor(), "members": list(members), "started_on": started_on},
    )
    record_step(app, case_id, "record_inspection_team", arg)


@inspection.command("check")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.argument("check", type=_choice(InspectionCheck))
@click.option("--completed-on", type=DATE, required=True)
@click.option("--finding", required=True)
@pass_app
def inspection_check(
    app: App, case_id: str, person_id: str, check: str, completed_on: date, finding: str
) -> None:
    """Record one of the four musts (凡提四必), or the economic audit, for PERSON."""
    arg = build(
        InspectionCheckInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "check": check,
            "completed_on": completed_on,
            "finding": finding,
        },
        positional=("person_id", "check"),
    )
    record_step(app, case_id, "record_inspection_check", arg)


@inspection.command("evaluation")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--held-on", type=DATE, required=True)
@click.option("--participants", type=int, required=True)
@click.option("--excellent", type=int, required=True, help="优秀")
@click.option("--competent", type=int, required=True, help="称职")
@click.option("--basically-competent", type=int, required=True, help="基本称职")
@click.option("--incompetent", type=int, required=True, help="不称职")
@pass_app
def inspection_evaluation(
    app: App,
    case_id: str,
    person_id: str,
    held_on: date,
    participants: int,
    excellent: int,
    competent: int,
    basically_competent: int,
    incompetent: int,
) -> None:
    """Record the democratic evaluation (民主测评) of PERSON."""
    arg = build(
        DemocraticEvaluationInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "held_on": held_on,
            "participants": participants,
            "excellent": excellent,
            "competent": competent,
            "basically_competent": basically_competent,
            "incompetent": incompetent,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_democratic_evaluation", arg)


@inspection.command("report")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--submitted-on", type=DATE, required=True)
@click.option("--summary", required=True)
@pass_app
def inspection_report(
    app: App, case_id: str, person_id: str, submitted_on: date, summary: str
) -> None:
    """Record the inspection report on PERSON."""
    arg = build(
        InspectionReportInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "submitted_on": submitted_on,
            "summary": summary,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_inspection_report", arg)


@inspection.command("conclude")
@click.argument("case_id", metavar="CASE")
@click.option(
    "--propose",
    "proposed",
    multiple=True,
    required=True,
    metavar="PERSON",
    help="a person put to the standing committee; repeat for each",
)
@click.option("--concluded-on", type=DATE, required=True)
@pass_app
def inspection_conclude(
    app: App, case_id: str, proposed: tuple[str, ...], concluded_on: date
) -> None:
    """Conclude the inspection: who goes to the standing committee."""
    arg = build(
        InspectionConclusionInput,
        {"actor": app.actor(), "proposed": list(proposed), "concluded_on": concluded_on},
    )
    record_step(app, case_id, "conclude_inspection", arg)


# --------------------------------------------------------------------------- approval, vote


@cli.group()
def approval() -> None:
    """The higher-level organization department's reply (exceptional promotion, 破格提拔)."""


@approval.command("record")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--replied-on", type=DATE, required=True)
@click.option("--approved/--refused", default=None, help="the reply (one of the two is required)")
@click.option("--reference", required=True, help="the reply's document number")
@pass_app
def approval_record(
    app: App,
    case_id: str,
    person_id: str,
    replied_on: date,
    approved: bool | None,
    reference: str,
) -> None:
    """Record the higher level's reply about PERSON."""
    if approved is None:
        raise InputError("say what the reply was: --approved or --refused")
    arg = build(
        HigherApprovalInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "replied_on": replied_on,
            "approved": approved,
            "reference": reference,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_higher_approval", arg)


@cli.group()
def vote() -> None:
    """The standing-committee vote (常委会票决)."""


@vote.command("record")
@click.argument("meeting_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def vote_record(app: App, meeting_file: Path) -> None:
    """Record a meeting and the votes on the items of every case decided at it.

    The whole file is checked first (quorum, each item's tallies); if anything is wrong,
    nothing is sent.
    """
    actor = app.actor()
    file = load_model(MeetingFile, meeting_file)
    described = check_meeting(meeting_file, file)
    meeting = file.meeting()
    sends = [
        Send(
            case_id,
            VoteInput(actor=actor, meeting=meeting, items=items),
            tuple(f"{i.person_id}: {described[(case_id, i.person_id)]}" for i in items),
        )
        for case_id, items in _by_case(file.items).items()
    ]
    click.echo(
        f"meeting {meeting.meeting_id} of {meeting.held_on}: {meeting.present} of "
        f"{meeting.members} present, {len(file.items)} item(s) in {len(sends)} case(s)"
    )
    record_many(app, "record_vote", sends)


# --------------------------------------------------------------------------- notice


@cli.group()
def notice() -> None:
    """The pre-appointment public notice (任前公示), objections and suspensions."""


@notice.command("publish")
@click.argument("notice_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def notice_publish(app: App, notice_file: Path) -> None:
    """Record a published notice for each case it covers."""
    actor = app.actor()
    file = load_model(NoticeFile, notice_file)
    repeated = sorted({c for c in file.case_ids if file.case_ids.count(c) > 1})
    if repeated:
        raise InputError(f"{notice_file}: case_ids lists {', '.join(repeated)} more than once")
    arg = PublicNoticeInput(actor=actor, notice_id=file.notice_id, published_on=file.published_on)
    record_many(app, "record_public_notice", [Send(c, arg) for c in file.case_ids])


@notice.command("objection")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--objection-id", required=True)
@click.option("--received-on", type=DATE, required=True)
@click.option("--summary", required=True)
@click.option("--anonymous", is_flag=True)
@pass_app
def notice_objection(
    app: App,
    case_id: str,
    person_id: str,
    objection_id: str,
    received_on: date,
    summary: str,
    anonymous: bool,
) -> None:
    """Record an objection (反映) about PERSON received during the notice."""
    arg = build(
        ObjectionInput,
        {
            "actor": app.actor(),
            "objection_id": objection_id,
            "person_id": person_id,
            "received_on": received_on,
            "summary": summary,
            "anonymous": anonymous,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_objection", arg)


@notice.command("verdict")
@click.argument("case_id", metavar="CASE")
@click.argument("objection_id", metavar="OBJECTION_ID")
@click.option("--outcome", type=_choice(ObjectionOutcome), required=True)
@click.option("--verified-on", type=DATE, required=True)
@click.option("--finding", required=True)
@pass_app
def notice_verdict(
    app: App, case_id: str, objection_id: str, outcome: str, verified_on: date, finding: str
) -> None:
    """Record the verification of an objection."""
    arg = build(
        ObjectionVerdictInput,
        {
            "actor": app.actor(),
            "objection_id": objection_id,
            "outcome": outcome,
            "verified_on": verified_on,
            "finding": finding,
        },
        positional=("objection_id",),
    )
    record_step(app, case_id, "record_objection_verdict", arg)


@notice.command("suspension")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--decided-on", type=DATE, required=True)
@click.option("--appoint/--not-appoint", default=None, help="the decision (one is required)")
@click.option("--reason", required=True)
@pass_app
def notice_suspension(
    app: App, case_id: str, person_id: str, decided_on: date, appoint: bool | None, reason: str
) -> None:
    """Decide a suspended appointment (暂缓任用) of PERSON."""
    if appoint is None:
        raise InputError("say what was decided: --appoint or --not-appoint")
    arg = build(
        SuspensionDecisionInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "decided_on": decided_on,
            "appoint": appoint,
            "reason": reason,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "decide_suspension", arg)


# --------------------------------------------------------------------------- appointment


@cli.command()
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--notice-issued-on", type=DATE, required=True, help="任职通知")
@click.option("--talk-held-on", type=DATE, required=True, help="任职谈话")
@click.option("--talk-by", required=True, help="who held the talk")
@pass_app
def appoint(
    app: App,
    case_id: str,
    person_id: str,
    notice_issued_on: date,
    talk_held_on: date,
    talk_by: str,
) -> None:
    """Record the appointment of PERSON: the notice issued and the talk held."""
    arg = build(
        AppointmentInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "notice_issued_on": notice_issued_on,
            "talk_held_on": talk_held_on,
            "talk_by": talk_by,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_appointment", arg)


@cli.command()
@click.argument("case_id", metavar="CASE")
@pass_app
def retry(app: App, case_id: str) -> None:
    """Ask a blocked case to try again (e.g. after the calendar supplement was updated)."""
    record_step(app, case_id, "retry_blocked", RetryInput(actor=app.actor()))


# --------------------------------------------------------------------------- inbox


@cli.group()
def inbox() -> None:
    """Reminders and escalations addressed to roles."""


@inbox.command("list")
@click.option("--role", type=click.Choice(PERSON_ROLES), help="messages for this role")
@click.option("--case", "case_id", metavar="CASE", help="messages about this case")
@click.option("--unread", is_flag=True, help="only unread messages")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_app
def inbox_list(
    app: App, role: str | None, case_id: str | None, unread: bool, limit: int, as_json: bool
) -> None:
    """Messages, newest first."""
    from store.queries import inbox as read_inbox

    async def read() -> list[Any]:
        async with database(app.settings) as session:
            return await read_inbox(
                session, recipient_role=role, case_id=case_id, unread_only=unread, limit=limit
            )

    rows = asyncio.run(read())
    if as_json:
        echo_json(_rows_json(rows))
        return
    if not rows:
        click.echo("no messages")
        return
    for m in rows:
        to = m.recipient_role.value + (f" {m.recipient}" if m.recipient else "")
        state = "read" if m.read_at else "UNREAD"
        click.echo(
            f"#{m.id}  {state:<6}  {format_instant(m.created_at)}  to {to}  case {m.case_id}"
        )
        click.echo(f"    {m.subject}")
        for line in m.body.splitlines():
            click.echo(f"    {line}")


@inbox.command("read")
@click.argument("message_id", metavar="ID", type=int)
@pass_app
def inbox_read(app: App, message_id: int) -> None:
    """Mark message ID as read."""
    from store.queries import mark_read

    async def mark() -> bool:
        async with database(app.settings) as session:
            found = await mark_read(session, message_id)
            await session.commit()
            return found

    if not asyncio.run(mark()):
        raise CliError(f"no inbox message #{message_id}")
    click.echo(f"message #{message_id} marked as read")


# --------------------------------------------------------------------------- entry point


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (the errors printed, nothing raised)."""
    try:
        result = cli.main(args=argv, prog_name="appointments", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        return EXIT_BUG
    return result if isinstance(result, int) else 0


def main() -> NoReturn:
    status = run()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    # temporalio/sdk-python#300: the interpreter can abort while tearing down after a
    # client was used; all output is written, so skip the teardown.
    os._exit(status)


import starter.probation_cli  # noqa: E402, F401  (adds the `probation` and `schedule` groups)

cli.add_command(audit)
from starter import accounts_cli  # noqa: E402, F401  (adds the `accounts` group)

if __name__ == "__main__":
    main()
