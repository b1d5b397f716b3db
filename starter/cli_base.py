"""What every command of the command line shares: the exit statuses and the errors that
carry them, who records a step (``App``, the account of the person's token:
``starter.identity``), option types, sending steps to a case's workflow
and reading its state, the database session, and the formatting of output.

The root group ``cli`` and the exit statuses' meaning are in ``starter.cli``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import unicodedata
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click
from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
)

from gateway import cases
from gateway.cases import is_connect_failure
from gateway.client import connect
from gateway.errors import GatewayError, NoWorker, TooLarge
from gateway.errors import Unreachable as Unreachable_
from settings import Settings
from stack_state import STACK_NOT_RUNNING
from workflows import field_errors
from workflows.glossary import awaited, step_title, with_value, zh
from workflows.glossary_dates import deadline_text, moment_text
from workflows.steps import CASE_STEPS
from workflows.types import Actor, CaseStage, CaseState, CaseStatus, Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


EXIT_REFUSED = 1
EXIT_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_BUG = 70
EXIT_INTERRUPTED = 130

MAX_PROBLEMS_SHOWN = 30

# People record steps; the "system" role belongs to the workflow itself.
PERSON_ROLES = [r.value for r in Role if r is not Role.SYSTEM]

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- errors


class CliError(click.ClickException):
    """A failure the user can act on: printed as one "<prefix>：<message>" block."""

    exit_code = EXIT_REFUSED
    prefix = "错误"

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{self.prefix}：{self.message}", file=file, err=file is None)


class Refused(CliError):
    """A rule refused the step; the message is the rule's sentence."""

    prefix = "未能办理"


class InputError(CliError):
    """The input is malformed; nothing was sent."""

    exit_code = EXIT_INPUT


class Unreachable(CliError):
    """Temporal, the database or the policy file cannot be reached or is not set up."""

    exit_code = EXIT_UNREACHABLE


def _problems(header: str, lines: Sequence[str]) -> str:
    shown = [f"  {line}" for line in lines[:MAX_PROBLEMS_SHOWN]]
    if len(lines) > MAX_PROBLEMS_SHOWN:
        shown.append(f"  ……另有 {len(lines) - MAX_PROBLEMS_SHOWN} 项未列出")
    return "\n".join([header, *shown])


def _field_path(loc: Iterable[int | str]) -> str:
    """``candidates[0].birth_date``; empty for the top level."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _file_field(loc: tuple[int | str, ...]) -> str:
    return _field_path(loc) or "（整个文件）"


def _error_text(error: Any) -> str:
    """One pydantic error as a clerk reads it, in Chinese (``workflows.field_errors``), and the
    value when it helps."""
    message = field_errors.message(error)
    value = error.get("input")
    if error["type"] == "missing" or not isinstance(value, str | int | float | date):
        return message
    return f"{message}（填的是 {value!r}）"


def validation_lines(
    exc: ValidationError, name: Callable[[tuple[int | str, ...]], str] = _file_field
) -> list[str]:
    """``field.path: message`` for each error, with ``name`` spelling the field."""
    return [f"{name(tuple(e['loc']))}: {_error_text(e)}" for e in exc.errors(include_url=False)]


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class App:
    settings: Settings
    # where the person's token is looked for (``starter.identity``): the process environment
    env: Mapping[str, str]

    def actor(self) -> Actor:
        """Who records the step: the account of the person's token, looked up in the
        database. Refused before anything else is read: exit 2 without a token, 1 with one
        that is not valid (unknown, revoked, or its account disabled)."""
        from starter.identity import signed_in

        return signed_in(self.settings, self.env)


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
        raise InputError(_problems("所填的值无法使用：", lines)) from exc


# --------------------------------------------------------------------------- Temporal


def _temporal_unreachable(settings: Settings, detail: str = "") -> Unreachable:
    message = f"无法连接 {settings.temporal_address} 上的 Temporal：`./dev run` 是否在运行？"
    if settings.stack_problem:  # the stack this data folder's state file names is gone
        message = settings.stack_problem
    return Unreachable(message + (f"\n  ({detail})" if detail else ""))


async def open_client(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:
        if is_connect_failure(exc):
            raise _temporal_unreachable(settings) from exc
        raise


def cli_error(error: GatewayError, settings: Settings) -> CliError:
    """The gateway's domain error as the command line says it, with its exit status."""
    if isinstance(error, Unreachable_):
        return _temporal_unreachable(settings, error.message)
    if isinstance(error, NoWorker):
        hint = "（工作进程是否在运行？可用 `appointments case show` 查看）"
        return Unreachable(f"{error.message}{hint}")
    if isinstance(error, TooLarge):
        return InputError(error.message)
    return Refused(error.message)


async def state_after(
    client: Client, settings: Settings, case_id: str, update: str, arg: BaseModel
) -> CaseState:
    arg = await _with_register(settings, case_id, arg)
    try:
        return await cases.state_after(client, case_id, update, arg)
    except GatewayError as exc:
        raise cli_error(exc, settings) from exc


async def _with_register(settings: Settings, case_id: str, arg: BaseModel) -> BaseModel:
    """A step that judges candidates again, with the register's facts of its day
    (``store.register_cases``); any other step as it is, without opening the database."""
    from store.register_cases import ReadsCandidates, with_register
    from workflows.types import Model

    if not isinstance(arg, ReadsCandidates) or not isinstance(arg, Model):
        return arg
    async with database(settings) as session:
        return await with_register(session, case_id, arg)


def table_step(update: str, arg: BaseModel) -> None:
    """Every step the command line sends is a row of the step table, with its input model."""
    row = CASE_STEPS.get(update)
    if row is None or not isinstance(arg, row.input):
        raise AssertionError(f"{update} with {type(arg).__name__} is not a step of the table")


def record_step(app: App, case_id: str, update: str, arg: BaseModel) -> CaseState:
    """Send one step to one case and print where the case stands afterwards."""
    table_step(update, arg)

    async def send() -> CaseState:
        client = await open_client(app.settings)
        return await state_after(client, app.settings, case_id, update, arg)

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
    for send in sends:
        table_step(update, send.arg)
    recorded: list[str] = []
    failed: list[tuple[str, str]] = []
    unsent: list[str] = []

    async def run() -> Unreachable | None:
        client = await open_client(app.settings)
        for i, send in enumerate(sends):
            click.echo(
                f"[{i + 1}/{len(sends)}] 案件 {send.case_id}：{step_title(update)} …", err=True
            )
            try:
                state = await state_after(client, app.settings, send.case_id, update, send.arg)
            except Unreachable as exc:
                unsent.extend(s.case_id for s in sends[i:])
                return exc
            except CliError as exc:
                failed.append((send.case_id, exc.message))
                click.echo(f"  {exc.prefix}：{exc.message}", err=True)
                continue
            recorded.append(send.case_id)
            echo_state(state)
            for line in send.details:
                click.echo(f"    {line}")
        return None

    lost = asyncio.run(run())
    if not failed and lost is None:
        click.echo(f"{len(recorded)} 个案件均已登记")
        return
    summary = [f"已登记：{'、'.join(recorded) or '无'}"]
    summary += [f"未登记：{case_id}——{why}" for case_id, why in failed]
    if unsent:
        summary.append(f"未发送：{'、'.join(unsent)}")
    if lost is not None:
        raise Unreachable(lost.message + "\n" + "\n".join(summary))
    raise Refused(_problems(f"{len(sends)} 个案件中有 {len(failed)} 个未能办理这一步：", summary))


async def query_state(
    client: Client, settings: Settings, case_id: str
) -> tuple[CaseState | None, str]:
    """The live state, or why there is none (never raises for a missing or idle workflow)."""
    state, why = await cases.query_state(client, case_id)
    if state is None and not why:
        return None, "Temporal 中没有这个案件的流程"
    return state, why


async def first_state(
    client: Client, settings: Settings, case_id: str
) -> tuple[CaseState | None, str]:
    """The state of a case just started, once it has its first step (or after a few seconds:
    the first deadline needs the calendar, read by an activity)."""
    return await cases.first_state(client, case_id)


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
            settings.stack_problem
            or f"{STACK_NOT_RUNNING}（或将 DATABASE_URL 指向业务数据库：postgresql+asyncpg://...）"
        )
    try:
        to_async_url(settings.database_url)
    except ValueError as exc:
        raise Unreachable(f"DATABASE_URL 无法使用：{exc}") from exc
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
        hint = "；请先运行 `appointments migrate`" if detail.startswith("relation") else ""
        raise Unreachable(f"无法使用 {_safe_url(url)} 上的数据库：{detail}{hint}") from exc
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
    """A deadline as people say it ("2026-05-12 日终"), as the console writes it."""
    return deadline_text(at)


def format_instant(at: datetime) -> str:
    """A moment in Beijing time, as the console writes it."""
    return moment_text(at)


def stage_text(stage: CaseStage) -> str:
    return with_value(stage)


def standing(state: CaseState) -> list[str]:
    """Where a case stands: its stage, and what it waits for until when."""
    lines = [f"环节 {stage_text(state.stage)}，{with_value(state.status)}"]
    step = state.step
    if state.status is not CaseStatus.ACTIVE:
        lines.append(f"办结：{state.outcome_reason or zh(state.status)}")
    elif step is None:
        lines.append("下一期限：无（案件在等待一段期间届满，不等待人员办理）")
    else:
        overdue = "  已逾期" if step.overdue else ""
        lines.append(
            f"下一步：{awaited(step.step)[0]}（{step.step}，{zh(step.responsible_role)}），"
            f"期限 {format_deadline(step.deadline_at)}{overdue}"
        )
        if step.blocked_reason:
            lines.append(
                f"受阻：{step.blocked_reason}；问题解决后请运行 appointments retry {state.case_id}"
            )
    return lines


def echo_state(state: CaseState) -> None:
    first, *rest = standing(state)
    click.echo(f"案件 {state.case_id}：{first}")
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
