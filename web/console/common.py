"""What every console page shares: its navigation, its context, Beijing's today."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from api.errors import ApiError
from api.permissions import READ_AUDIT, READ_CADRE_WORK, READ_REGISTER, READ_REPORTS, START_CASE
from api.schemas import nul_refusal
from store.console_models import SignedIn
from web import csrf
from web.console.auth import PageRefused, may
from web.forms import FormProblem, form_fields, parse_form, problems_of
from web.templating import render
from workflows.rules.assignment import ASSIGNERS
from workflows.types import CaseState, Line, Role


def navigation(user: SignedIn) -> list[tuple[str, str]]:
    """(address, name) of the pages this person's role may open."""
    links = [("/console/", "工作台"), ("/console/tasks", "我的待办")]
    if user.caller.role in ASSIGNERS:
        links.append(("/console/tasks/all", "全部待办"))
    if may(user, START_CASE):
        links.append(("/console/cases/new", "新建案件"))
    links.append(("/console/probation", "试用期"))
    if may(user, READ_REGISTER):
        links.append(("/console/register", "干部名册"))
    if may(user, READ_CADRE_WORK):
        links.append(("/console/capability", "能力测试"))
        links.append(("/console/evaluation", "双重考核"))
    if may(user, READ_AUDIT):
        links.append(("/console/audit", "审计查询"))
    if may(user, READ_REPORTS):
        links.append(("/console/reports", "报表"))
    if user.caller.role is Role.ADMINISTRATOR:
        links.append(("/console/admin", "系统设置"))
    links.append(("/board/", "公示栏"))
    return links


def page(
    request: Request, user: SignedIn, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return render(
        request,
        template,
        {
            "user": user.caller,
            "nav": navigation(user),
            "here": request.url.path,
            "csrf_field": csrf.FIELD,
            "csrf_token": user.csrf_token,
            **context,
        },
        status_code=status_code,
    )


@dataclass(frozen=True)
class FormPage:
    """A page with one form made from ``model`` (``web.forms``), and what it does when sent:
    the same for every step of a case, starting a case, and a probation's review."""

    title: str
    action: str  # where the form posts
    back: str  # where "返回" leads
    model: type[BaseModel]
    skip: frozenset[str] = frozenset({"actor"})
    case_id: str = ""
    state: CaseState | None = None

    def show(
        self,
        request: Request,
        user: SignedIn,
        values: Mapping[str, str],
        *,
        error: str = "",
        rule: str = "",
        problems: list[str] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        people = [(c.person_id, c.name) for c in self.state.candidates] if self.state else []
        return page(
            request,
            user,
            "console_step.html",
            status_code=status_code,
            title=self.title,
            action=self.action,
            back=self.back,
            case_id=self.case_id,
            state=self.state,
            fields=form_fields(self.model, people=people, values=values, skip=self.skip),
            error=error,
            error_rule=rule,
            problems=problems or [],
        )

    async def submit(
        self,
        request: Request,
        user: SignedIn,
        form: Mapping[str, str],
        send: Callable[[dict[str, Any]], Awaitable[object]],
        done: str,
    ) -> Response:
        """Read the form into the model's fields and ``send`` them (which validates them and
        asks the workflow): on success to ``done``; else the form again, as typed, with what
        was wrong: 422 for the form, the workflow's status and rule for a refusal."""
        try:
            fields = parse_form(self.model, form, skip=self.skip)
            if refusal := nul_refusal(fields):
                raise FormProblem(refusal)
            await send(fields)
        except FormProblem as exc:
            return self.show(request, user, form, problems=[str(exc)], status_code=422)
        except ValidationError as exc:
            return self.show(request, user, form, problems=problems_of(exc), status_code=422)
        except ApiError as exc:
            return self.show(
                request, user, form, error=exc.detail, rule=exc.rule, status_code=exc.status
            )
        return RedirectResponse(done, status_code=303)


# A filter typed into a form: one line (a NUL would reach the database as a 503; a line
# break matches nothing), refused with the console's 422 page.
FilterText = Annotated[Line | None, Query(max_length=200)]
E = TypeVar("E", bound=Enum)


def chosen(kind: type[E], text: str | None, default: E | None = None) -> E | None:
    """A filter from a drop-down: absent → ``default``; "" (全部) → None; else its value,
    or a page saying the filter is not one of the choices."""
    if text is None:
        return default
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise PageRefused(422, f"筛选条件“{text}”不是可选的值。") from None


def day(text: str | None) -> date | None:
    """A filter from a date box: empty → None; else the date, or a page saying it is not one."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PageRefused(422, f"“{text}”不是日期（应为 YYYY-MM-DD）。") from None
