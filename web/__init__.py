"""The service's web pages: the console for staff (``/console``) and the public notice board
(``/board``), rendered on the server, with their one stylesheet served from ``/static``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from web import board, console, security
from web.templating import render

STATIC = Path(__file__).resolve().with_name("static")


def install(app: FastAPI) -> None:
    security.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(board.router)
    app.include_router(console.router)
    console.install_handlers(app)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=303)


PAGE_PREFIXES = ("/console", "/board")


def is_page(request: Request) -> bool:
    return request.url.path.startswith(PAGE_PREFIXES)


def malformed_page(request: Request) -> HTMLResponse:
    """What a page answers to an address it cannot read (a bad date or choice typed in)."""
    message = "网址中的参数无法识别（例如日期应为 YYYY-MM-DD）。请从页面上的链接或表单进入。"
    return render(
        request, "console_refused.html", {"message": message, "status": 422}, status_code=422
    )
