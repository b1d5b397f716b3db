"""The administrators' settings page (系统设置): the accounts and their roles, the reminder
and escalation settings of the policy in force, and the two Temporal Schedules (the daily
probation digest and the signed audit checkpoints) with their next runs.

Accounts: create one, set its role, reset its console password or issue it an API token
(either shown on the page this once), revoke a token, disable an account; each through
``store.account_service`` (which the command line uses too), which records who changed what
and when, and refuses to leave the service without an active administrator. Schedules:
pause, resume, run now, and bring them to the policy's times. The policy's numbers live in
the policy file (``POLICY_FILE``), checked against the national rules whenever it is read:
they are changed there, by whoever keeps that file, never from a browser.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.audit_checkpoint import ensure_audit_checkpoint_schedule
from activities.policy import read_policy
from activities.probation_parts import ensure_digest_schedule
from api.deps import ServicesDep
from store import account_service as accounts
from store.account_models import AccountError, AccountRow, list_accounts
from store.console_models import SignedIn
from web.console.auth import Console, PageRefused, form_of
from web.console.common import page
from web.templating import SHANGHAI
from workflows.audit_checkpoint import AUDIT_CHECKPOINT_SCHEDULE_ID
from workflows.digest import DIGEST_SCHEDULE_ID
from workflows.glossary import zh
from workflows.policy import PolicyError, PolicySnapshot
from workflows.types import Role

router = APIRouter(prefix="/admin")

SCHEDULES = {DIGEST_SCHEDULE_ID: "试用期每日汇总", AUDIT_CHECKPOINT_SCHEDULE_ID: "审计检查点签名"}
NOT_FOUND = (
    "Temporal 中还没有这项计划任务：工作进程启动时会创建，"
    "也可点击下方“按现行政策更新计划任务时间”。"
)
UNREACHABLE = "暂时无法连接 Temporal，未能读取这项计划任务，请稍后刷新。"


@dataclass(frozen=True)
class ScheduleView:
    schedule_id: str
    title: str
    found: bool
    paused: bool = False
    note: str = ""
    next_runs: tuple[datetime, ...] = ()
    recent_runs: tuple[datetime, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class Secret:
    """A password or a token, shown on the page this once (only its hash is kept)."""

    what: str
    account: str
    value: str


def _require_administrator(user: SignedIn) -> None:
    if user.caller.role is not Role.ADMINISTRATOR:
        raise PageRefused(403, "系统设置仅限系统管理员。")


async def _schedule(client: Client, schedule_id: str) -> ScheduleView:
    title = SCHEDULES[schedule_id]
    try:
        described = await client.get_schedule_handle(schedule_id).describe()
    except RPCError as exc:
        problem = NOT_FOUND if exc.status is RPCStatusCode.NOT_FOUND else UNREACHABLE
        return ScheduleView(schedule_id, title, found=False, problem=problem)
    except RuntimeError:
        return ScheduleView(schedule_id, title, found=False, problem=UNREACHABLE)
    state = described.schedule.state
    return ScheduleView(
        schedule_id,
        title,
        found=True,
        paused=state.paused,
        note=state.note or "",
        next_runs=tuple(described.info.next_action_times[:3]),
        recent_runs=tuple(a.started_at for a in described.info.recent_actions[-3:]),
    )


def _policy(path: Path) -> tuple[PolicySnapshot | None, str]:
    try:
        return read_policy(path), ""
    except PolicyError as exc:
        return None, str(exc)


async def _settings_page(
    request: Request,
    user: SignedIn,
    parts: ServicesDep,
    flash: str = "",
    error: str = "",
    problems: list[str] | None = None,
    status_code: int = 200,
    secret: Secret | None = None,
) -> Response:
    snapshot, policy_problem = await asyncio.to_thread(_policy, parts.settings.policy_file)
    schedules = [await _schedule(parts.client, sid) for sid in SCHEDULES]
    async with parts.sessions() as s:
        people, tokens, changes = await _accounts(s)
    response = page(
        request,
        user,
        "console_admin.html",
        status_code=status_code,
        accounts=people,
        tokens=tokens,
        changes=changes,
        roles=[(r.value, zh(r)) for r in accounts.PERSON_ROLES],
        secret=secret,
        snapshot=snapshot,
        policy_problem=policy_problem,
        policy_file=parts.settings.policy_file.name,
        schedules=schedules,
        flash=flash,
        error=error,
        problems=problems or [],
        shanghai=SHANGHAI,
    )
    # a password or a token shown once must not stay in a cache
    response.headers["Cache-Control"] = "no-store"
    return response


async def _accounts(
    session: AsyncSession,
) -> tuple[list[AccountRow], dict[str, list[int]], list[accounts.ChangeRow]]:
    return (
        await list_accounts(session),
        await accounts.active_tokens(session),
        await accounts.recent_changes(session),
    )


DONE = {
    "role": "已修改账号角色",
    "revoked": "已吊销接口令牌",
    "disabled": "已停用账号",
    "paused": "已暂停",
    "resumed": "已恢复",
    "triggered": "已立即运行一次",
    "synced": "已按政策更新计划任务",
}


@router.get("", response_class=HTMLResponse)
async def settings_page(
    request: Request, user: Console, parts: ServicesDep, done: str = ""
) -> Response:
    _require_administrator(user)
    return await _settings_page(request, user, parts, flash=DONE.get(done[:20], ""))


ScheduleId = Annotated[
    str, PathParam(pattern=f"^({DIGEST_SCHEDULE_ID}|{AUDIT_CHECKPOINT_SCHEDULE_ID})$")
]
Operation = Annotated[str, PathParam(pattern=r"^(pause|resume|trigger)$")]


@router.post("/schedules/{schedule_id}/{operation}")
async def change_schedule(
    request: Request,
    user: Console,
    parts: ServicesDep,
    schedule_id: ScheduleId,
    operation: Operation,
) -> Response:
    _require_administrator(user)
    await form_of(request, user)
    handle = parts.client.get_schedule_handle(schedule_id)
    note = f"{user.caller.name}（系统管理员）于控制台操作"
    try:
        if operation == "pause":
            await handle.pause(note=note)
        elif operation == "resume":
            await handle.unpause(note=note)
        else:
            await handle.trigger()
    except RPCError as exc:
        problem = NOT_FOUND if exc.status is RPCStatusCode.NOT_FOUND else UNREACHABLE
        return await _settings_page(request, user, parts, error=problem, status_code=503)
    done = {"pause": "paused", "resume": "resumed", "trigger": "triggered"}[operation]
    return RedirectResponse(f"/console/admin?done={done}", status_code=303)


@router.post("/schedules/sync")
async def sync_schedules(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Bring both schedules to the policy file's times (as a worker does when it starts)."""
    _require_administrator(user)
    await form_of(request, user)
    try:
        await ensure_digest_schedule(parts.client, parts.settings)
        await ensure_audit_checkpoint_schedule(parts.client, parts.settings)
    except (RPCError, OSError, PolicyError) as exc:
        return await _settings_page(request, user, parts, error=str(exc), status_code=503)
    return RedirectResponse("/console/admin?done=synced", status_code=303)


# --------------------------------------------------------------------------- accounts


AccountAction = Annotated[str, PathParam(pattern=r"^(create|role|password|token|revoke|disable)$")]
MAX_FIELD = 200


def _role(text: str) -> Role:
    try:
        role = Role(text)
    except ValueError:
        raise AccountError(f"“{text[:MAX_FIELD]}”不是可选的角色。") from None
    if role not in accounts.PERSON_ROLES:
        raise AccountError(f"“{zh(role)}”角色不能赋予账号。")
    return role


@router.post("/accounts/{action}")
async def change_account(
    request: Request, user: Console, parts: ServicesDep, action: AccountAction
) -> Response:
    """One change to an account, made and recorded in one transaction; a password or a token
    made is shown on the page this once, anything else leads back to the page."""
    _require_administrator(user)
    form = await form_of(request, user)
    name = form.get("account", "").strip()[:MAX_FIELD]
    by = accounts.ChangedBy(user.caller.name, user.caller.role.value)
    secret = None
    try:
        async with parts.sessions() as s, s.begin():
            if action == "create":
                made = await accounts.create(
                    s, by, form.get("account", ""), _role(form.get("role", ""))
                )
                password = await accounts.reset_password(s, by, made.name)
                secret = Secret("控制台初始密码", made.name, password)
            elif action == "role":
                await accounts.set_role(s, by, name, _role(form.get("role", "")))
            elif action == "password":
                secret = Secret("控制台新密码", name, await accounts.reset_password(s, by, name))
            elif action == "token":
                token_id, token = await accounts.new_token(s, by, name)
                secret = Secret(f"接口令牌 #{token_id}", name, token)
            elif action == "revoke":
                token_text = form.get("token_id", "").strip()
                if not token_text.isdigit() or len(token_text) > 18:
                    raise AccountError(f"“{token_text[:MAX_FIELD]}”不是接口令牌编号。")
                await accounts.revoke(s, by, int(token_text))
            else:
                await accounts.disable(s, by, name)
    except AccountError as exc:
        return await _settings_page(request, user, parts, problems=[str(exc)], status_code=422)
    if secret is not None:
        return await _settings_page(request, user, parts, secret=secret)
    done = {"role": "role", "revoke": "revoked", "disable": "disabled"}[action]
    if action in ("role", "disable") and name == user.caller.name:
        # the change ended this person's own sessions: sign in again
        return RedirectResponse("/console/login", status_code=303)
    return RedirectResponse(f"/console/admin?done={done}", status_code=303)
