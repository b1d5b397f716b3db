"""The cadre work waiting for the signed-in person's role (干部管理待办), for "my tasks".

The appointment cases' steps come from their listing rows (``store.tasks``); the cadre
workflows' steps waiting for people come from their chains' events, as the daily digest reads
them (``store.cadre_queries``, ``store.rotation_batch_queries``): a retest score or a handling
decision, the standing committee's vote on a proposed removal, a rotation move's document or
arrival. A step is listed for a role that both the permission table and the policy in force
name for it (each workflow's own policy has the last word when the step is recorded), with
the console's form for it, its deadline and whether it is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from api.deps import Services
from api.permissions import (
    RECORD_HANDLING,
    RECORD_REMOVAL_VOTE,
    RECORD_RETEST,
    RECORD_ROTATION_ARRIVAL,
    RECORD_ROTATION_DOCUMENT,
)
from store.cadre_queries import removal_standings, retest_standings
from store.console_models import SignedIn
from store.rotation_batch_queries import move_standings
from web.console.auth import may
from workflows.cadre_policy import CadrePolicy
from workflows.glossary import CADRE_STEPS
from workflows.ids import chain_keys
from workflows.rules.dates import past_due
from workflows.types import Role

# a retest's awaited step -> (the step's action, the slug of its form)
_RETEST_STEPS = {
    "capability_retest": (RECORD_RETEST, "retest"),
    "capability_handling": (RECORD_HANDLING, "handling"),
}
# a rotation move's awaited step -> the step's action
_MOVE_STEPS = {
    "rotation_document": RECORD_ROTATION_DOCUMENT,
    "rotation_arrival": RECORD_ROTATION_ARRIVAL,
}


@dataclass(frozen=True, slots=True)
class CadreTask:
    action: str  # the step (an update's name)
    href: str  # the console's page to record it on
    name: str  # the cadre
    unit: str
    work: str  # what it belongs to: the campaign, the evaluation, the batch
    deadline_on: date
    overdue: bool

    @property
    def title(self) -> str:
        return CADRE_STEPS[self.action]


def _path(key: str) -> str:
    return quote(key, safe="")


def _roles(cadre: CadrePolicy) -> dict[str, list[Role]]:
    """Who records each cadre step, by the policy."""
    test, batch = cadre.capability_test, cadre.rotation.batch
    roles = {
        RECORD_RETEST: test.retest_roles,
        RECORD_HANDLING: test.handling_roles,
        RECORD_REMOVAL_VOTE: cadre.double_evaluation.vote_roles,
    }
    if batch is not None:
        roles |= {
            RECORD_ROTATION_DOCUMENT: batch.document_roles,
            RECORD_ROTATION_ARRIVAL: batch.arrival_roles,
        }
    return roles


async def cadre_tasks_for(
    parts: Services, user: SignedIn, cadre: CadrePolicy | None, today: date
) -> list[CadreTask]:
    """The cadre steps waiting for ``user``'s role under the policy in force's ``cadre``
    section (none without one), the overdue first, then by deadline."""
    if cadre is None:
        return []
    role = user.caller.role
    mine = {a for a, roles in _roles(cadre).items() if role in roles and may(user, a)}
    if not mine:
        return []
    found: list[CadreTask] = []
    async with parts.sessions() as s:
        if mine & {RECORD_RETEST, RECORD_HANDLING}:
            for r in await retest_standings(s):
                action, slug = _RETEST_STEPS.get(r.awaited_step, ("", ""))
                if action in mine and r.deadline_on is not None:
                    campaign, person = chain_keys(r.chain_id)
                    href = f"/console/capability/{_path(campaign)}/{_path(person)}/{slug}"
                    late = past_due(r.deadline_on, r.overdue, today)
                    found.append(
                        CadreTask(action, href, r.name, r.unit, campaign, r.deadline_on, late)
                    )
        if RECORD_REMOVAL_VOTE in mine:
            for v in await removal_standings(s):
                if v.deadline_on is not None:
                    where = f"{_path(v.evaluation_id)}/{_path(v.person_id)}"
                    found.append(
                        CadreTask(
                            RECORD_REMOVAL_VOTE,
                            f"/console/evaluation/{where}/vote",
                            v.name,
                            v.unit,
                            v.evaluation_id,
                            v.deadline_on,
                            past_due(v.deadline_on, v.overdue, today),
                        )
                    )
        if mine & set(_MOVE_STEPS.values()):
            for m in await move_standings(s):
                action = _MOVE_STEPS.get(m.awaited_step, "")
                if action in mine and m.deadline_on is not None:
                    found.append(
                        CadreTask(
                            action,
                            f"/console/register/rotation-batches/{_path(m.batch_id)}",
                            m.name,
                            m.from_township,
                            m.title,
                            m.deadline_on,
                            past_due(m.deadline_on, False, today),
                        )
                    )
    return sorted(found, key=lambda t: (not t.overdue, t.deadline_on, t.href))
