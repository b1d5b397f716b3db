"""The service's web pages: the console for staff (``/console``) and the public notice board
(``/board``), rendered on the server, with their one stylesheet served from ``/static``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from web import board, console, security

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
