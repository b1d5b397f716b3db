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
from workflows.glossary_dates import deadline_text, full_day_text, when_text

TEMPLATES = Path(__file__).resolve().with_name("templates")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing_today() -> date:
    """Today as the department counts days (Asia/Shanghai)."""
    return datetime.now(SHANGHAI).date()


def _deadline(value: datetime | date | None) -> str:
    """A deadline as people say it ("12-10 日终"), the year shown when it is not this one."""
    return deadline_text(value, beijing_today().year)


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
# dates as people say them: workflows.glossary_dates is their one home
_environment.filters["when"] = when_text
_environment.filters["deadline"] = _deadline
_environment.filters["full_day"] = full_day_text
_environment.filters["yes_no"] = _yes_no
templates = Jinja2Templates(env=_environment)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)
