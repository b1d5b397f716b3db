"""The case workflows through Temporal, for every front end: start one, send it a step, ask
where it stands. Temporal's failures come out as ``gateway.errors``; each front end maps them
to its medium."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import QueryRejectCondition, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from gateway.errors import (
    TEMPORAL_UNREACHABLE,
    BadRequest,
    CaseEnded,
    CaseExists,
    GatewayError,
    NoSuchCase,
    NotPermitted,
    NoWorker,
    Refused,
    TooLarge,
    Unreachable,
)
from workflows.glossary import step_title
from workflows.ids import case_workflow_id
from workflows.step_outcome import StepOutcome, outcome_of
from workflows.steps import NOT_PERMITTED
from workflows.types import CaseInput, CaseState, CaseStatus, PublicNoticeView

WORKFLOW_NAME = "AppointmentCaseWorkflow"
# An update waits for a worker to take it; without one it would wait for ever.
UPDATE_WAIT = timedelta(seconds=60)
QUERY_WAIT = timedelta(seconds=10)
STARTUP_WAIT = timedelta(seconds=5)
STARTUP_POLL_INTERVAL = 0.25  # seconds
# Temporal refuses a payload over 2 MB, and a refused one fails the case's workflow task: an
# input must be well below it before it is sent.
MAX_INPUT_BYTES = 1_500_000
# an update that meets a case between two runs (continue-as-new) is sent again, this often
CONTINUED_RETRIES = 3


def check_size(what: str, arg: BaseModel) -> None:
    """``TooLarge`` before anything is sent when ``arg`` would be too large a payload."""
    size = len(arg.model_dump_json().encode("utf-8"))
    if size > MAX_INPUT_BYTES:
        raise TooLarge(
            f"{what}共 {size:,} 字节，一次最多只能向案件发送 {MAX_INPUT_BYTES:,} 字节"
            "（Temporal 对单次输入的限制）；请分批发送，每次少录入一些行"
        )


def is_connect_failure(exc: BaseException) -> bool:
    # A lazily connected client reports a server it cannot reach as this RuntimeError.
    return isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect")


def connect_problem(exc: RuntimeError) -> Unreachable:
    """A lazily connected client's failure to connect as ``Unreachable``; anything else is
    raised again."""
    if not is_connect_failure(exc):
        raise exc
    return Unreachable(str(exc).splitlines()[0])


def _rpc_problem(exc: RPCError, case_id: str) -> GatewayError:
    if exc.status == RPCStatusCode.NOT_FOUND:
        if "completed" in exc.message.lower():
            return CaseEnded(f"案件 {case_id} 已经办结，不能再登记任何环节")
        return NoSuchCase(f"案件 {case_id} 不存在")
    if exc.status == RPCStatusCode.INVALID_ARGUMENT:
        return BadRequest(f"Temporal 拒绝了对案件 {case_id} 的请求：{exc.message}")
    return Unreachable(exc.message)


async def _continued(handle: WorkflowHandle[Any, Any], exc: RPCError) -> bool:
    """Whether an update refused as sent to a closed run met a case that has continued as
    new and runs on (the refusal came between the two runs)."""
    if exc.status != RPCStatusCode.NOT_FOUND or "completed" not in exc.message.lower():
        return False
    try:
        described = await handle.describe()
    except RPCError:
        return False
    return described.status == WorkflowExecutionStatus.RUNNING


def no_worker(who: str, what: str) -> NoWorker:
    """A step sent to ``who`` that no worker answered in time: it may still be recorded."""
    return NoWorker(
        f"{who}：{UPDATE_WAIT.seconds} 秒内没有工作进程（worker）应答；工作进程恢复后，"
        f"这一步仍可能被登记，请先查看{what}的情况，再决定是否重新发送"
    )


def refusal(exc: WorkflowUpdateFailedError) -> GatewayError:
    """The domain error of a workflow's refusal of an update (a case's or a probation's)."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == NOT_PERMITTED:
        return NotPermitted(cause.message)
    if isinstance(cause, ApplicationError):
        rule = cause.details[0] if cause.details and isinstance(cause.details[0], str) else ""
        return Refused(cause.message, rule)
    return Refused(str(cause) or type(cause).__name__)


async def start_case(client: Client, task_queue: str, case: CaseInput) -> str:
    """Start the case's workflow; its id, derived from the case id, makes a second start of
    the same case ``CaseExists``."""
    check_size(f"案件 {case.case_id} ", case)
    try:
        handle = await client.start_workflow(
            WORKFLOW_NAME,
            case,
            id=case_workflow_id(case.case_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError as exc:
        raise CaseExists(f"案件 {case.case_id} 已经存在") from exc
    except RPCError as exc:
        raise _rpc_problem(exc, case.case_id) from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    return handle.id


async def execute_update(client: Client, case_id: str, update: str, arg: BaseModel) -> StepOutcome:
    """Send one step to one case and return its outcome (``state_after`` also reads the
    state)."""
    check_size(f"「{step_title(update)}」的录入内容", arg)
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        for attempt in range(1, CONTINUED_RETRIES + 1):
            try:
                answer = await asyncio.wait_for(
                    handle.execute_update(update, arg, result_type=dict),
                    UPDATE_WAIT.total_seconds(),
                )
                break
            except RPCError as exc:
                # sent to a run that just continued as new: its next run takes it
                if attempt == CONTINUED_RETRIES or not await _continued(handle, exc):
                    raise
    except WorkflowUpdateFailedError as exc:
        raise refusal(exc) from exc
    except RPCError as exc:
        raise _rpc_problem(exc, case_id) from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise no_worker(f"案件 {case_id}", "案件") from exc
    return read_answer(answer, update)


def read_answer(answer: dict[str, Any], update: str) -> StepOutcome:
    """A case's answer to ``update``: its outcome, or, from a case that began the step before
    the small answers, the whole state, read down to the outcome."""
    if "candidates" in answer:
        return outcome_of(CaseState.model_validate(answer), update)
    return StepOutcome.model_validate(answer)


async def state_after(client: Client, case_id: str, update: str, arg: BaseModel) -> CaseState:
    """Send one step and read where the case stands after it (the ``state`` query, which the
    history never holds)."""
    await execute_update(client, case_id, update, arg)
    state, why = await query_state(client, case_id)
    if state is None:
        raise NoWorker(f"案件 {case_id}：这一步已登记，但暂时读不到案件情况：{why}")
    return state


_CLOSED = "closed"  # ``_ask_state``'s word for a query the server refused: the case has closed


async def query_state(
    client: Client, case_id: str, *, open_only: bool = False
) -> tuple[CaseState | None, str]:
    """The case's state, or why there is none; (None, "") when Temporal has no such case, or,
    with ``open_only``, when the case is closed. Never raises for a missing or silent case.

    The ``state`` query is asked of open cases only: a closed case's query would wake a worker
    to replay its whole history (hundreds of events, every page view), so the server refuses
    it at once and the state comes from the run's result, the state the case returned when it
    closed, read from the history without a worker. Only a case that closed without a result
    (terminated, failed) is asked the query then, and replayed."""
    handle = client.get_workflow_handle(case_workflow_id(case_id), result_type=CaseState)
    state, why = await _ask_state(handle, QueryRejectCondition.NOT_OPEN)
    if state is not None or why != _CLOSED or open_only:
        return state, "" if why == _CLOSED else why
    ended = await _result_state(handle)
    if ended is not None:
        return ended, ""
    return await _ask_state(handle, None)


async def _ask_state(
    handle: WorkflowHandle[Any, Any], reject: QueryRejectCondition | None
) -> tuple[CaseState | None, str]:
    try:
        state = await handle.query(
            "state", result_type=CaseState, rpc_timeout=QUERY_WAIT, reject_condition=reject
        )
        return state, ""
    except WorkflowQueryRejectedError:
        return None, _CLOSED
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None, ""
        if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED) or (
            "timeout" in exc.message.lower()
        ):
            return None, f"{QUERY_WAIT.seconds} 秒内没有工作进程（worker）应答"
        return None, f"{TEMPORAL_UNREACHABLE}：{exc.message}"
    except WorkflowQueryFailedError as exc:
        return None, str(exc)
    except RuntimeError as exc:
        return None, f"{TEMPORAL_UNREACHABLE}：{connect_problem(exc)}"


async def _result_state(handle: WorkflowHandle[Any, CaseState]) -> CaseState | None:
    """The state a closed case returned, from its history; None if it closed without one."""
    try:
        return await handle.result(rpc_timeout=QUERY_WAIT)
    except (WorkflowFailureError, RPCError, RuntimeError):
        return None


async def query_public_notice(
    client: Client, case_id: str, wait: timedelta = QUERY_WAIT
) -> PublicNoticeView | None:
    """The notice the case has before the public, or None (none, no such case, or the case
    has closed: the server then refuses the query without waking a worker). ``Unreachable``
    when Temporal cannot be reached; ``NoWorker`` when this case did not answer."""
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        view: PublicNoticeView | None = await handle.query(
            "public_notice",
            result_type=PublicNoticeView,
            reject_condition=QueryRejectCondition.NOT_OPEN,
            rpc_timeout=wait,
        )
        return view
    except WorkflowQueryRejectedError:
        return None
    except WorkflowQueryFailedError as exc:
        raise NoWorker(f"案件 {case_id}：查询公示情况失败：{exc}") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        if exc.status == RPCStatusCode.UNAVAILABLE:
            raise Unreachable(exc.message) from exc
        raise NoWorker(f"案件 {case_id}：{exc.message}") from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc


async def first_state(client: Client, case_id: str) -> tuple[CaseState | None, str]:
    """The state of a case just started, once it has its first step (or after a few
    seconds: the first deadline needs the calendar, read by an activity)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + STARTUP_WAIT.total_seconds()
    while True:
        state, why = await query_state(client, case_id)
        settled = state is not None and (
            state.step is not None or state.status is not CaseStatus.ACTIVE
        )
        if settled or loop.time() >= give_up:
            return state, why or ("" if state else "案件尚未开始办理")
        await asyncio.sleep(STARTUP_POLL_INTERVAL)
