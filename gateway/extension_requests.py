"""Extension requests (延期申请) for every door: the one service the API, the console and the
command line call to file, withdraw, refuse and approve a request, and to list those waiting.

A person who acts on a case's awaited step files a request; it is checked up front with the
rule the case itself applies (``workflows.rules.deadline_extension``, the policy's limits),
so a request no approver could grant is refused in Chinese and nothing is written. An
approver the policy names approves it: the case's ``extend_deadline`` update is sent as the
approver, with the request's id and its requester taken from the stored request, never from
what a caller sends; the case has the last word. A request whose step moved on lapses.

The up-front checks read the policy file in force (``policy.extension``); a case keeps the
policy it began with, and its own check, when the approval reaches it, decides.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.policy import read_policy
from gateway import cases
from gateway.errors import (
    BadRequest,
    CaseEnded,
    NoSuchCase,
    NotPermitted,
    Refused,
    Unreachable,
)
from store.extension_requests import (
    LAPSED_REASON,
    Decision,
    PendingRow,
    RequestRow,
    add_request,
    decide,
    get_request,
    lapse_all_but,
    pending_of_case,
    pending_requests,
)
from store.substitutes import actor_for
from workflows.glossary import zh
from workflows.policy import ExtensionPolicy
from workflows.rules.deadline_extension import (
    RULE_EXTENSION,
    RULE_EXTENSION_REQUEST,
    check_approver_not_requester,
    check_extension_request,
    request_lapsed,
)
from workflows.rules.errors import RuleViolation
from workflows.types import (
    Actor,
    CaseState,
    CaseStatus,
    ExtendDeadlineInput,
    Line,
    Model,
    StepState,
    Text,
)

UPDATE = "extend_deadline"

# a request still waiting (the decided ones are named by the glossary)
WAITING = "待审批"


class ExtensionRequestInput(Model):
    """延期申请: the awaited step (its key, as the case shows it), the working days asked for,
    and why."""

    step: Line = Field(min_length=1, max_length=200)
    working_days: int = Field(ge=1, le=366)
    reason: Text = Field(min_length=1, max_length=2000)


class ExtensionDecisionInput(Model):
    """An approver's word on a request: the reason is required when it is refused."""

    reason: Text = Field(default="", max_length=2000)


@dataclass(frozen=True)
class Door:
    """What the service needs, as every front end has it."""

    sessions: async_sessionmaker[AsyncSession]
    client: Client
    policy_file: Path


@dataclass(frozen=True)
class Approved:
    request: RequestRow
    state: CaseState | None  # the case after the approval; None when it could not be read


async def extension_policy(policy_file: Path) -> ExtensionPolicy | None:
    """The policy file's ``extension`` section (read off the event loop)."""
    snapshot = await asyncio.to_thread(read_policy, policy_file)
    return snapshot.policy.extension


def decision_text(row: RequestRow) -> str:
    return zh(row.decision) if row.decision else WAITING


def _refused(e: RuleViolation) -> Refused:
    return Refused(e.message, e.rule)


def _lapsed(row: RequestRow) -> Refused:
    return Refused(
        f"延期申请 #{row.id} 所针对的事项（{row.step}）已经办结或变化，申请已作废；"
        "如仍需延期，请对当前事项重新申请",
        RULE_EXTENSION,
    )


async def _live_step(client: Client, case_id: str) -> tuple[CaseState, StepState | None]:
    """The case's state and its awaited step (None once it has ended)."""
    state, why = await cases.query_state(client, case_id)
    if state is None:
        if why:
            raise Unreachable(why)
        raise NoSuchCase(f"没有案件 {case_id}")
    return state, state.step if state.status is CaseStatus.ACTIVE else None


async def _approvers(door: Door, by: Actor) -> ExtensionPolicy:
    policy = await extension_policy(door.policy_file)
    if policy is None:
        raise Refused("本地政策未规定延期，期限不能延长", RULE_EXTENSION)
    if by.role not in policy.approver_roles:
        names = "、".join(zh(r) for r in policy.approver_roles)
        raise NotPermitted(f"按本地政策，延期申请由{names}批准，{zh(by.role)}不能审批")
    return policy


async def _pending(s: AsyncSession, request_id: int) -> RequestRow:
    row = await get_request(s, request_id, for_update=True)
    if row is None:
        raise NoSuchCase(f"没有编号为 {request_id} 的延期申请")
    if row.decision is not None:
        raise Refused(
            f"延期申请 #{row.id} {decision_text(row)}，不能再办理", RULE_EXTENSION_REQUEST
        )
    return row


async def file_request(
    door: Door, by: Actor, case_id: str, data: ExtensionRequestInput, today: date
) -> RequestRow:
    """File a request for the case's awaited step; refused (nothing written) when the rule
    says no approver could grant it, or the case already has one waiting."""
    if not data.reason.strip():
        raise BadRequest("请写明申请延期的理由")
    policy = await extension_policy(door.policy_file)
    state, step = await _live_step(door.client, case_id)
    if step is None:
        raise CaseEnded(f"案件 {case_id} 已经{zh(state.status)}，不能申请延期")
    async with door.sessions() as s:
        # 代理: for the step's assignee when a substitution by ``by`` covers today
        actor = await actor_for(s, by.name, by.role, step.assignee, today)
        try:
            check_extension_request(step, policy, actor, data.step, data.working_days)
        except RuleViolation as e:
            raise _refused(e) from e
        assert step.deadline_at is not None  # the rule refuses a step without one
        await lapse_all_but(s, case_id, [(step.step, step.started_on)], actor)
        waiting = await pending_of_case(s, case_id)
        if waiting is not None:
            raise Refused(
                f"本案已有一份待批准的延期申请（#{waiting.id}，{waiting.requested_by} 提出）；"
                "请待其批准、不批准或撤回后再申请",
                RULE_EXTENSION_REQUEST,
            )
        try:
            row = await add_request(
                s,
                case_id=case_id,
                step=step.step,
                step_started_on=step.started_on,
                deadline_before=step.deadline_at,
                working_days=data.working_days,
                reason=data.reason.strip(),
                by=actor,
            )
            await s.commit()
        except IntegrityError as e:  # another request was filed at the same moment
            raise Refused(
                "本案已有一份待批准的延期申请，请刷新后再看", RULE_EXTENSION_REQUEST
            ) from e
    return row


async def withdraw_request(door: Door, by: Actor, request_id: int) -> RequestRow:
    """The person who filed a request withdraws it while it waits."""
    async with door.sessions() as s:
        row = await _pending(s, request_id)
        if by.name != row.requested_by:
            raise NotPermitted(f"延期申请 #{row.id} 由 {row.requested_by} 提出，只有本人可以撤回")
        await decide(s, row.id, Decision.WITHDRAWN, by)
        await s.commit()
        found = await get_request(s, row.id)
    assert found is not None
    return found


async def refuse_request(
    door: Door, by: Actor, request_id: int, data: ExtensionDecisionInput
) -> RequestRow:
    """An approver refuses a request, saying why; the case is not touched."""
    await _approvers(door, by)
    reason = data.reason.strip()
    if not reason:
        raise BadRequest("不批准延期时请写明理由")
    async with door.sessions() as s:
        row = await _pending(s, request_id)
        try:
            check_approver_not_requester(row.requested_by, by.name)
        except RuleViolation as e:
            raise _refused(e) from e
        await decide(s, row.id, Decision.REFUSED, by, reason=reason)
        await s.commit()
        found = await get_request(s, row.id)
    assert found is not None
    return found


async def approve_request(door: Door, by: Actor, request_id: int, today: date) -> Approved:
    """An approver grants a request: the case's deadline moves (its ``extend_deadline``, sent
    as the approver with the request's id and requester), then the request is marked
    approved with the new deadline. The request is held while the case is asked, so two
    approvers never move the deadline twice; a step that moved on lapses the request."""
    await _approvers(door, by)
    async with door.sessions() as s:
        row = await _pending(s, request_id)
        try:
            check_approver_not_requester(row.requested_by, by.name)
        except RuleViolation as e:
            raise _refused(e) from e
        _, step = await _live_step(door.client, row.case_id)
        if request_lapsed(step, row.step, row.step_started_on):
            await decide(s, row.id, Decision.LAPSED, by, reason=LAPSED_REASON)
            await s.commit()
            raise _lapsed(row)
        arg = ExtendDeadlineInput(
            actor=by,
            step=row.step,
            working_days=row.working_days,
            reason=row.reason,
            decided_on=today,
            request_id=row.id,
            requested_by=row.requested_by,
        )
        try:
            await cases.execute_update(door.client, row.case_id, UPDATE, arg)
        except Refused:
            # the case moved on since it was asked, or an earlier approval reached it
            _, step = await _live_step(door.client, row.case_id)
            if step is not None and row.id in step.extension_requests:
                return await _approved(door, s, row, by)
            if request_lapsed(step, row.step, row.step_started_on):
                await decide(s, row.id, Decision.LAPSED, by, reason=LAPSED_REASON)
                await s.commit()
                raise _lapsed(row) from None
            raise
        return await _approved(door, s, row, by)


async def _approved(door: Door, s: AsyncSession, row: RequestRow, by: Actor) -> Approved:
    state, _ = await cases.query_state(door.client, row.case_id)
    step = state.step if state is not None else None
    after = step.deadline_at if step is not None and row.id in step.extension_requests else None
    await decide(s, row.id, Decision.APPROVED, by, deadline_after=after)
    await s.commit()
    found = await get_request(s, row.id)
    assert found is not None
    return Approved(found, state)


async def pending_for(door: Door, by: Actor, limit: int = 200) -> list[PendingRow]:
    """The requests waiting for this person's decision: all of them when the policy names
    their role an approver (from the database; no case is asked), else none."""
    policy = await extension_policy(door.policy_file)
    if policy is None or by.role not in policy.approver_roles:
        return []
    async with door.sessions() as s:
        return [p for p in await pending_requests(s, limit) if p.request.requested_by != by.name]
