"""The administrators' settings page (系统设置): the reminder and escalation settings of
the policy in force, the two Temporal Schedules (the daily probation digest and the signed
audit checkpoints) with their next runs, and the actions on them: pause, resume, run now,
and bring them to the policy's times. The numbers themselves live in the policy file
(``POLICY_FILE``), checked against the national rules whenever it is read: they are
changed there, by whoever keeps that file, never from a browser.
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
from temporalio.client import Client
from temporalio.service import RPCError

from activities.audit_checkpoint import ensure_audit_checkpoint_schedule
from activities.policy import read_policy
from activities.probation_parts import ensure_digest_schedule
from api.deps import ServicesDep
from store.console_models import SignedIn
from web.console.auth import Console, PageRefused, form_of
from web.console.common import page
from web.templating import SHANGHAI
from workflows.audit_checkpoint import AUDIT_CHECKPOINT_SCHEDULE_ID
from workflows.digest import DIGEST_SCHEDULE_ID
from workflows.policy import PolicyError, PolicySnapshot
from workflows.types import Role

router = APIRouter(prefix="/admin")

SCHEDULES = {DIGEST_SCHEDULE_ID: "试用期每日汇总", AUDIT_CHECKPOINT_SCHEDULE_ID: "审计检查点签名"}


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


def _require_administrator(user: SignedIn) -> None:
    if user.caller.role is not Role.ADMINISTRATOR:
        raise PageRefused(403, "系统设置仅限系统管理员。")


async def _schedule(client: Client, schedule_id: str) -> ScheduleView:
    title = SCHEDULES[schedule_id]
    try:
        described = await client.get_schedule_handle(schedule_id).describe()
    except RPCError as exc:
        return ScheduleView(schedule_id, title, found=False, problem=exc.message)
    except RuntimeError as exc:
        return ScheduleView(schedule_id, title, found=False, problem=str(exc).splitlines()[0])
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
) -> Response:
    snapshot, policy_problem = await asyncio.to_thread(_policy, parts.settings.policy_file)
    schedules = [await _schedule(parts.client, sid) for sid in SCHEDULES]
    return page(
        request,
        user,
        "console_admin.html",
        status_code=status_code,
        snapshot=snapshot,
        policy_problem=policy_problem,
        policy_file=parts.settings.policy_file.name,
        schedules=schedules,
        flash=flash,
        error=error,
        problems=problems or [],
        shanghai=SHANGHAI,
    )


DONE = {
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
        return await _settings_page(request, user, parts, error=exc.message, status_code=503)
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
