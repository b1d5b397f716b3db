"""批量办理 on "my tasks": several awaited steps given to one person (or back to the queue),
several cases withdrawn with one reason, several messages marked read.

Each selected item goes, one by one, through what its single button sends: the same
permission (``api.permissions``), the same update with the signed-in account as the actor,
and the case's own workflow validator decides. One refusal does not stop the others; the
page lists, per item, "已办理" or the refusal's sentence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import temporal
from api.deps import Services, ServicesDep
from api.errors import ApiError
from api.permissions import MARK_INBOX_READ, may_mark_read
from store import queries
from store.console_models import SignedIn
from store.substitutes import actor_for
from web.console.assignment import ASSIGN, check_assignee
from web.console.auth import Console, PageRefused, check_csrf, read_form, require
from web.console.common import page
from web.templating import beijing_today as today
from workflows.types import Actor, AssignStepInput, WithdrawInput

router = APIRouter()

WITHDRAW = "withdraw"
# a page's worth of rows: more at once is refused (a batch waits on every case it asks)
MAX_BULK = 100
DONE = "已办理"
# the lists whose tick boxes feed a batch (the form's ``back``): where its result leads back
BACK_TO = {
    "tasks": ("/console/tasks", "返回我的待办"),
    "all": ("/console/tasks/all", "返回全部待办"),
}


@dataclass(frozen=True)
class BulkResult:
    item: str  # a case id, or a message's number
    done: bool
    message: str


async def _selection(
    request: Request, user: SignedIn, field: str
) -> tuple[list[str], dict[str, str]]:
    """The items ticked (in order, each once) and the form's other fields; refused when none
    or more than ``MAX_BULK`` are ticked."""
    form = await read_form(request)
    check_csrf(user, form)
    items = list(dict.fromkeys(v.strip() for v in form.getlist(field) if isinstance(v, str)))
    items = [i for i in items if i]
    if not items:
        raise PageRefused(422, "没有选择任何事项，未办理。")
    if len(items) > MAX_BULK:
        raise PageRefused(
            422, f"一次最多批量办理 {MAX_BULK} 项，您选择了 {len(items)} 项，未办理。"
        )
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != field}
    return items, fields


async def _each(items: list[str], act: Callable[[str], Awaitable[None]]) -> list[BulkResult]:
    results: list[BulkResult] = []
    for item in items:
        try:
            await act(item)
        except ApiError as exc:
            results.append(BulkResult(item, False, exc.detail))
        except PageRefused as exc:
            results.append(BulkResult(item, False, exc.message))
        else:
            results.append(BulkResult(item, True, DONE))
    return results


def _result_page(
    request: Request,
    user: SignedIn,
    title: str,
    results: list[BulkResult],
    back: str = "tasks",
) -> Response:
    back_to, back_label = BACK_TO.get(back, BACK_TO["tasks"])
    return page(
        request,
        user,
        "console_bulk_result.html",
        title=title,
        results=results,
        done=sum(r.done for r in results),
        refused=sum(not r.done for r in results),
        back_to=back_to,
        back_label=back_label,
    )


async def _assign_one(
    parts: Services, user: SignedIn, case_id: str, assignee: str | None, reason: str
) -> None:
    state, why = await temporal.query_state(parts.client, case_id)
    if state is None or state.step is None:
        raise PageRefused(409, why or f"案件 {case_id} 当前没有待办事项。")
    if assignee is not None:
        await check_assignee(parts, assignee, state.step.responsible_role)
    try:
        arg = AssignStepInput(
            actor=Actor(name=user.caller.name, role=user.caller.role),
            step=state.step.step,
            assignee=assignee,
            reason=reason,
        )
    except ValidationError:
        raise PageRefused(422, "指派的内容不完整或含有不允许的字符。") from None
    await temporal.execute_update(parts.client, case_id, ASSIGN, arg)


@router.post("/bulk/assign", response_class=HTMLResponse)
async def bulk_assign(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Each ticked case's awaited step given to the person named, or (none named) back to
    its role's queue."""
    require(user, ASSIGN)
    cases, form = await _selection(request, user, "case")
    assignee = form.get("assignee", "").strip() or None
    reason = form.get("reason", "").strip()
    results = await _each(cases, lambda c: _assign_one(parts, user, c, assignee, reason))
    title = f"批量指派给 {assignee}" if assignee else "批量退回待认领"
    return _result_page(request, user, title, results, form.get("back", ""))


async def _withdraw_one(parts: Services, user: SignedIn, case_id: str, reason: str) -> None:
    state, why = await temporal.query_state(parts.client, case_id)
    if state is None:
        raise PageRefused(409, why or f"没有案件 {case_id}。")
    assignee = state.step.assignee if state.step is not None else None
    async with parts.sessions() as s:
        actor = await actor_for(s, user.caller.name, user.caller.role, assignee, today())
    await temporal.execute_update(
        parts.client, case_id, WITHDRAW, WithdrawInput(actor=actor, reason=reason)
    )


@router.post("/bulk/withdraw", response_class=HTMLResponse)
async def bulk_withdraw(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Each ticked case withdrawn, all with the one reason given."""
    require(user, WITHDRAW)
    cases, form = await _selection(request, user, "case")
    reason = form.get("reason", "").strip()
    try:
        WithdrawInput(actor=Actor(name=user.caller.name, role=user.caller.role), reason=reason)
    except ValidationError:
        raise PageRefused(422, "请填写撤回的理由（不得含有不允许的字符），未办理。") from None
    results = await _each(cases, lambda c: _withdraw_one(parts, user, c, reason))
    return _result_page(request, user, "批量撤回案件", results, form.get("back", ""))


async def read_message(parts: Services, user: SignedIn, message_id: int) -> None:
    """Mark one message read, if it is addressed to the person's role (one or many at once)."""
    async with parts.sessions() as s:
        found = await queries.inbox_message(s, message_id)
        if found is None:
            raise PageRefused(404, "没有这条消息。")
        if not may_mark_read(user.caller.role, found.recipient_role.value):
            raise PageRefused(403, "这条消息不是发给您的角色的。")
        await queries.mark_read(s, message_id)
        await s.commit()


async def _read_one(parts: Services, user: SignedIn, item: str) -> None:
    if not item.isdigit() or not 1 <= int(item) <= 2**62:
        raise PageRefused(422, f"“{item}”不是消息编号。")
    await read_message(parts, user, int(item))


@router.post("/bulk/read", response_class=HTMLResponse)
async def bulk_read(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Each ticked message marked read."""
    require(user, MARK_INBOX_READ)
    messages, _ = await _selection(request, user, "message")
    results = await _each(messages, lambda m: _read_one(parts, user, m))
    return _result_page(request, user, "批量标为已读", results)
