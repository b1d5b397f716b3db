"""全部待办: the leadership's list of every awaited step of the department, to find a
colleague's tasks and hand them on.

"My tasks" shows a person their own steps and their role's queue, so a section chief cannot
reach the steps held by a colleague; this page shows them all, narrowed by assignee and by
the role a step waits on, read from the listing alone (``store.tasks``: no case is asked).
Only the roles that may give a step to anyone (``workflows.rules.assignment.ASSIGNERS``) see
it. Its tick boxes feed the one batch action of "my tasks" (``web.console.bulk``), through
the same form (``_bulk_cases.html``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ServicesDep
from api.permissions import READ_CASES
from store.tasks import TASK_LIMIT, department_tasks, open_task_choices
from web.console.assignment import ASSIGN
from web.console.auth import Console, PageRefused, may, require
from web.console.bulk import MAX_BULK
from web.console.common import FilterText, chosen, page
from workflows.glossary import zh
from workflows.rules.assignment import ASSIGNERS
from workflows.types import Role

router = APIRouter()

ADDRESS = "/console/tasks/all"
# who may open the page, in words, in the order of the roles
LEADERS = "、".join(zh(r) for r in Role if r in ASSIGNERS)


@router.get("/tasks/all", response_class=HTMLResponse)
async def all_tasks(
    request: Request,
    user: Console,
    parts: ServicesDep,
    assignee: FilterText = None,
    queue: Annotated[str, Query(max_length=1)] = "",
    role_text: Annotated[FilterText, Query(alias="role")] = None,
) -> Response:
    """The department's awaited steps: of one assignee, or only those in a queue
    (``queue=1``), of one role's queue when chosen."""
    require(user, READ_CASES)
    if user.caller.role not in ASSIGNERS:
        raise PageRefused(403, f"全部待办只有{LEADERS}可以查看，{zh(user.caller.role)}无权查看。")
    role = chosen(Role, role_text)
    holder = (assignee or "").strip() or None
    unassigned = queue == "1"
    if holder is not None and unassigned:
        raise PageRefused(422, "“经办人”和“只看待认领的”不能同时选择，请只选其一。")
    async with parts.sessions() as s:
        rows = await department_tasks(
            s, assignee=holder, unassigned=unassigned, role=role, limit=TASK_LIMIT + 1
        )
        found = await open_task_choices(s)
    return page(
        request,
        user,
        "console_tasks_all.html",
        rows=rows[:TASK_LIMIT],
        more=len(rows) > TASK_LIMIT,
        limit=TASK_LIMIT,
        choices=found,
        filters={"assignee": holder or "", "queue": unassigned, "role": role},
        may_assign=may(user, ASSIGN),
        may_withdraw=may(user, "withdraw"),
        bulk_limit=MAX_BULK,
        bulk_back="all",
    )
