"""Server-side rendering of the pages: one Jinja2 environment, escaping everything.

Templates live in ``web/templates``; autoescaping is on for every template, so whatever a
case or a member of the public wrote is shown as text, never as markup.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from workflows.glossary import awaited, date_label, zh, zh_recorded

TEMPLATES = Path(__file__).resolve().with_name("templates")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing_today() -> date:
    """Today as the department counts days (Asia/Shanghai)."""
    return datetime.now(SHANGHAI).date()


def _when(value: object) -> str:
    """A date as 2026-09-07; a moment as 2026-09-07 17:00 in Beijing time."""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _yes_no(value: object) -> str:
    return "" if value is None else ("是" if value else "否")


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["zh"] = zh
_environment.filters["zh_recorded"] = zh_recorded
_environment.filters["date_label"] = date_label
_environment.filters["awaited"] = lambda key: awaited(key)[0]
_environment.filters["answer"] = lambda key: awaited(key)[1] or ""
_environment.filters["when"] = _when
_environment.filters["yes_no"] = _yes_no
templates = Jinja2Templates(env=_environment)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)
