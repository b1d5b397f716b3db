"""The console's extension requests (延期申请): the form on a case's page by which a person
who acts on the awaited step asks for more time, and the buttons by which an approver the
policy names grants or refuses it (on the case's page and in "my tasks"), or its requester
withdraws it. Each button calls the one service (``gateway.extension_requests``) the API
and the command line call; a refusal shows its sentence.

A case's page also shows what the extension changed: the step's deadline before any
extension and its next reminder, read from the deadlines the case recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.deps import Services, ServicesDep, actor_of
from api.permissions import DECIDE_EXTENSION, REQUEST_EXTENSION
from api.schemas import IdPath
from gateway import extension_requests as service
from gateway.errors import GatewayError
from store.console_models import SignedIn
from store.extension_requests import PendingRow, RequestRow, requests_of_case
from store.queries import EventRow
from web.console.auth import Console, PageRefused, form_of, may, require
from web.console.refusal import page_refused
from web.templating import beijing_today as today
from workflows.rules.deadline_extension import check_extension_request
from workflows.rules.errors import RuleViolation
from workflows.types import CaseState, CaseStatus

router = APIRouter()

CaseId = IdPath
RequestId = Annotated[int, Path(ge=1, le=2**62)]
BACK_TO_TASKS = "tasks"
# what the case's page says after each button (``?extension=...``)
FLASH = {
    "filed": "已提交延期申请，等待审批",
    "approve": "已批准延期申请，期限已延长",
    "refuse": "已记录：不批准延期申请",
    "withdraw": "已撤回延期申请",
}


@dataclass(frozen=True)
class ExtensionPanel:
    """What a case's page shows of its extension requests, for the signed-in person."""

    requests: list[RequestRow]
    step: str | None  # the awaited step a new request would be for
    may_request: bool  # the person acts on that step, and none waits for a decision
    approver: bool  # the policy names the person's role an approver
    first_deadline: date | None  # the step's deadline before it was extended (None: never)
    next_reminder: datetime | None  # the step's next reminder, as its schedule now stands


def schedule_facts(history: list[EventRow], now: datetime) -> tuple[date | None, datetime | None]:
    """The awaited step's deadline before its extensions (None when it was never extended)
    and its next reminder after ``now``, from the deadlines the case recorded: each step's
    first is the policy's, each extension records another (``extended_from``)."""
    deadlines = [e.payload for e in history if e.kind == "deadline"]
    if not deadlines:
        return None, None
    current = deadlines[-1]
    first: date | None = None
    for payload in reversed(deadlines):
        if "extended_from" not in payload:
            break
        first = date.fromisoformat(payload["extended_from"])
    reminders = sorted(
        datetime.fromisoformat(a["at"])
        for a in current.get("alarms", [])
        if a.get("kind") == "reminder"
    )
    return first, next((at for at in reminders if at > now), None)


async def panel(
    parts: Services,
    user: SignedIn,
    case_id: str,
    state: CaseState | None,
    history: list[EventRow],
    now: datetime,
) -> ExtensionPanel:
    async with parts.sessions() as s:
        rows = await requests_of_case(s, case_id)
    policy = await service.extension_policy(parts.settings.policy_file)
    me = actor_of(user.caller)
    step = state.step if state is not None and state.status is CaseStatus.ACTIVE else None
    may_request = False
    if step is not None and may(user, REQUEST_EXTENSION):
        try:
            check_extension_request(step, policy, me, step.step, 1)
            may_request = not any(r.decision is None for r in rows)
        except RuleViolation:
            pass
    first, next_reminder = schedule_facts(history, now) if step is not None else (None, None)
    return ExtensionPanel(
        requests=rows,
        step=step.step if step is not None else None,
        may_request=may_request,
        approver=policy is not None
        and me.role in policy.approver_roles
        and may(user, DECIDE_EXTENSION),
        first_deadline=first,
        next_reminder=next_reminder,
    )


def _door(parts: Services) -> service.Door:
    return service.Door(parts.sessions, parts.client, parts.settings.policy_file)


async def pending_for(parts: Services, user: SignedIn) -> list[PendingRow]:
    """The requests waiting for this person's decision, for "my tasks"."""
    if not may(user, DECIDE_EXTENSION):
        return []
    return await service.pending_for(_door(parts), actor_of(user.caller))


def _back(form: dict[str, str], case_id: str, done: str) -> Response:
    if form.get("back") == BACK_TO_TASKS:
        return RedirectResponse("/console/tasks", status_code=303)
    return RedirectResponse(f"/console/cases/{case_id}?extension={done}", status_code=303)


@router.post("/cases/{case_id}/extension-requests")
async def file_request(
    request: Request, user: Console, parts: ServicesDep, case_id: CaseId
) -> Response:
    """延期申请 for the awaited step: checked by the rule before anything is written."""
    require(user, REQUEST_EXTENSION)
    form = await form_of(request, user)
    days = form.get("working_days", "").strip()
    try:
        data = service.ExtensionRequestInput(
            step=form.get("step", ""),
            working_days=int(days) if days.isdigit() else 0,
            reason=form.get("reason", "").strip(),
        )
    except ValidationError:
        raise PageRefused(
            422, "请填写延长的工作日数（正整数）和申请延期的理由（不含不允许的字符）。"
        ) from None
    try:
        await service.file_request(_door(parts), actor_of(user.caller), case_id, data, today())
    except GatewayError as exc:
        raise page_refused(exc) from exc
    return _back(form, case_id, "filed")


async def _decided(
    request: Request, user: Console, parts: Services, request_id: int, action: str
) -> Response:
    form = await form_of(request, user)
    me = actor_of(user.caller)
    door = _door(parts)
    try:
        if action == "approve":
            row = (await service.approve_request(door, me, request_id, today())).request
        elif action == "refuse":
            try:
                data = service.ExtensionDecisionInput(reason=form.get("reason", "").strip())
            except ValidationError:
                raise PageRefused(422, "不批准的理由含有不允许的字符或过长。") from None
            row = await service.refuse_request(door, me, request_id, data)
        else:
            row = await service.withdraw_request(door, me, request_id)
    except GatewayError as exc:
        raise page_refused(exc) from exc
    return _back(form, row.case_id, action)


# the buttons on a request, each with who may press it
DECISIONS = {"approve": DECIDE_EXTENSION, "refuse": DECIDE_EXTENSION, "withdraw": REQUEST_EXTENSION}


def _decision_route(action: str, permission: str) -> None:
    async def decide(
        request: Request, user: Console, parts: ServicesDep, request_id: RequestId
    ) -> Response:
        require(user, permission)
        return await _decided(request, user, parts, request_id, action)

    router.post(f"/extension-requests/{{request_id}}/{action}", name=action)(decide)


for _action, _permission in DECISIONS.items():
    _decision_route(_action, _permission)
