"""The console for the department's staff (工作台), under ``/console``: sign-in, cases,
steps, probation, the auditors' pages and the administrators' settings."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from web.console import (
    admin,
    assignment,
    audit,
    bulk,
    calendar_years,
    cases,
    department_tasks,
    probation,
    register,
    reports,
    signin,
)
from web.console import attachments as attachment_pages
from web.console import capability as capability_pages
from web.console import evaluation as evaluation_pages
from web.console import extension_requests as extension_pages
from web.console import rotation_batch as rotation_batch_pages
from web.console.auth import PageRefused, SignInNeeded, sign_in_url
from web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
for part in (signin, cases, probation, register, audit, reports, admin, calendar_years, bulk):
    router.include_router(part.router)
router.include_router(attachment_pages.router)
router.include_router(assignment.router)
router.include_router(extension_pages.router)
router.include_router(department_tasks.router)
router.include_router(capability_pages.router)
router.include_router(evaluation_pages.router)
router.include_router(rotation_batch_pages.router)


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return RedirectResponse(sign_in_url(exc.then), status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRefused)
    return render(
        request,
        "console_refused.html",
        {"message": exc.message, "status": exc.status},
        status_code=exc.status,
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SignInNeeded, _to_sign_in)
    app.add_exception_handler(PageRefused, _refused)
