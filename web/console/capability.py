"""The capability test pages (能力测试): the campaigns and the import of a campaign's results
(.xlsx or .csv; any bad row, nothing starts), a campaign's cadres with where each stands
(self-study until, retest due, handling decided) and the forms of the human steps (补测成绩,
组织处理), and the campaign's report as CSV or .xlsx."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api import cadre_calls
from api.deps import ServicesDep, actor_of
from api.errors import ApiError
from api.permissions import (
    READ_CADRE_WORK,
    RECORD_HANDLING,
    RECORD_RETEST,
    START_CAPABILITY_TEST,
)
from api.schemas import IdPath
from gateway import cadre_checks
from gateway.errors import GatewayError
from sheets.cadre_imports import Upload, read_results
from sheets.columns import CAPABILITY_RESULTS
from sheets.problems import SheetProblems
from store import cadre_queries
from store.console_models import SignedIn
from web.console.auth import Console, PageRefused, check_csrf, form_of, may, read_form, require
from web.console.cadre_reports import campaign_report, download
from web.console.common import FormPage, page
from web.console.refusal import shown
from web.forms import problems_of
from web.templating import beijing_today
from workflows.cadre_enums import RetestStatus
from workflows.capability_types import CapabilityCampaignInput, HandlingInput, RetestInput
from workflows.glossary import CADRE_STEPS
from workflows.types import Role

router = APIRouter(prefix="/capability")

Key = IdPath
Slug = Annotated[str, Path(pattern=r"^(retest|handling)$")]
Fmt = Annotated[str, Path(pattern=r"^(csv|xlsx)$")]
# slug -> (the action, its input, its title)
STEPS: dict[str, tuple[str, type[Any], str]] = {
    "retest": (RECORD_RETEST, RetestInput, CADRE_STEPS["record_retest"]),
    "handling": (RECORD_HANDLING, HandlingInput, CADRE_STEPS["record_handling"]),
}
# which step each status awaits
AWAITS = {RetestStatus.AWAITING_RETEST: "retest", RetestStatus.AWAITING_HANDLING: "handling"}


async def _list(
    request: Request,
    user: SignedIn,
    parts: ServicesDep,
    *,
    problems: list[str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with parts.sessions() as s:
        rows = await cadre_queries.campaigns(s)
    return page(
        request,
        user,
        "console_capability_list.html",
        status_code=status_code,
        rows=rows,
        may_start=may(user, START_CAPABILITY_TEST),
        sheet=CAPABILITY_RESULTS,
        problems=problems or [],
        values=values or {},
        today=beijing_today(),
    )


@router.get("", response_class=HTMLResponse)
async def campaigns(request: Request, user: Console, parts: ServicesDep) -> Response:
    require(user, READ_CADRE_WORK)
    return await _list(request, user, parts)


@router.post("")
async def start_campaign(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Import a campaign's results and start it: every problem of the file by row, and of
    the fields, told at once; nothing starts while there is one."""
    require(user, START_CAPABILITY_TEST)
    form = await read_form(request)
    check_csrf(user, form)
    values = {k: str(form.get(k, "")).strip() for k in ("campaign_id", "title", "tested_on")}
    values["notified_on"] = str(form.get("notified_on", "")).strip()
    upload = form.get("file")
    problems: list[str] = []
    numbered: list[Any] = []
    if upload is None or isinstance(upload, str) or not upload.filename:
        problems.append("请选择成绩表文件（.xlsx 或 .csv）")
    else:
        try:
            numbered = read_results(Upload(upload.filename, await upload.read()))
        except SheetProblems as exc:
            problems += exc.told()
    data: CapabilityCampaignInput | None = None
    if numbered:
        try:
            data = CapabilityCampaignInput.model_validate(
                {
                    **{k: v for k, v in values.items() if v},
                    "results": [row for _, row in numbered],
                    "opened_by": actor_of(user.caller),
                }
            )
        except ValidationError as exc:
            problems += problems_of(exc)
    if data is not None and not problems:
        try:
            await cadre_calls.start_campaign(parts, data, numbered, CAPABILITY_RESULTS.title)
        except SheetProblems as exc:
            problems += exc.told()
        except ApiError as exc:
            problems.append(exc.detail)
        else:
            done = quote(f"已导入 {len(data.results)} 人的成绩，能力测试开始")
            return RedirectResponse(
                f"/console/capability/{data.campaign_id}?done={done}", status_code=303
            )
    return await _list(request, user, parts, problems=problems, values=values, status_code=422)


async def _allowed_steps(parts: ServicesDep, user: SignedIn) -> set[str]:
    """The steps the policy in force lets this role record (a hint for the buttons; the
    campaign's own policy decides when a step is sent)."""
    slugs = {slug for slug, (action, _, _) in STEPS.items() if may(user, action)}
    try:
        policy = (await cadre_checks.cadre_policy(parts.settings.policy_file)).capability_test
    except GatewayError:
        return slugs
    roles: dict[str, list[Role]] = {
        "retest": policy.retest_roles,
        "handling": policy.handling_roles,
    }
    return {s for s in slugs if user.caller.role in roles[s]}


async def _campaign(parts: ServicesDep, campaign_id: str) -> cadre_calls.Campaign:
    return await shown(cadre_calls.campaign(parts, campaign_id))


@router.get("/{campaign_id}", response_class=HTMLResponse)
async def campaign(
    request: Request,
    user: Console,
    parts: ServicesDep,
    campaign_id: Key,
    done: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    require(user, READ_CADRE_WORK)
    found = await _campaign(parts, campaign_id)
    return page(
        request,
        user,
        "console_capability.html",
        campaign_id=campaign_id,
        state=found.state,
        retests=found.retests,
        unavailable=found.unavailable,
        steps=await _allowed_steps(parts, user),
        awaits=AWAITS,
        report=campaign_report(found) if found.state else None,
        flash=done,
    )


@router.get("/{campaign_id}/report.{fmt}")
async def campaign_download(
    user: Console, parts: ServicesDep, campaign_id: Key, fmt: Fmt
) -> Response:
    require(user, READ_CADRE_WORK)
    found = await _campaign(parts, campaign_id)
    if found.state is None:
        raise PageRefused(404, "能力测试正在启动，尚无报表。")
    return download(campaign_report(found), fmt)


def _form_page(campaign_id: str, person_id: str, slug: str, who: str) -> FormPage:
    _, model, title = STEPS[slug]
    where = f"/console/capability/{campaign_id}"
    return FormPage(f"{title} · {who}", f"{where}/{person_id}/{slug}", where, model)


async def _who(parts: ServicesDep, campaign_id: str, person_id: str) -> str:
    found = await _campaign(parts, campaign_id)
    retest = found.retests.get(person_id)
    if retest is None:
        raise PageRefused(404, f"能力测试 {campaign_id} 中没有 {person_id} 的补测。")
    return f"{retest.name}（{retest.unit}）"


@router.get("/{campaign_id}/{person_id}/{slug}", response_class=HTMLResponse)
async def step_form(
    request: Request,
    user: Console,
    parts: ServicesDep,
    campaign_id: Key,
    person_id: Key,
    slug: Slug,
) -> Response:
    require(user, STEPS[slug][0])
    who = await _who(parts, campaign_id, person_id)
    today = beijing_today().isoformat()
    values = {"tested_on": today, "decided_on": today}
    return _form_page(campaign_id, person_id, slug, who).show(request, user, values)


@router.post("/{campaign_id}/{person_id}/{slug}")
async def record_step(
    request: Request,
    user: Console,
    parts: ServicesDep,
    campaign_id: Key,
    person_id: Key,
    slug: Slug,
) -> Response:
    action = STEPS[slug][0]
    require(user, action)
    form = await form_of(request, user)
    who = await _who(parts, campaign_id, person_id)

    async def send(fields: dict[str, Any]) -> None:
        record = cadre_calls.record_retest if slug == "retest" else cadre_calls.record_handling
        await record(parts, user.caller, campaign_id, person_id, fields)

    done = f"/console/capability/{campaign_id}?done=" + quote(f"已记录：{STEPS[slug][2]}")
    return await _form_page(campaign_id, person_id, slug, who).submit(
        request, user, form, send, done
    )
