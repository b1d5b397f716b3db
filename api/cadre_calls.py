"""Calls to the capability test's and the double evaluation's workflows that the HTTP API
and the web console share: check and start, record a step as the caller, read the states;
each of the gateway's failures (``gateway.cadre``, ``gateway.cadre_checks``) turned into an
``ApiError`` (403 a role the workflow's policy does not name, 409 a rule, 404 none such).
The caller's account is the actor, never what a request says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from api.deps import Services, actor_of
from api.errors import ApiError
from api.temporal import answer
from gateway import cadre, cadre_checks
from gateway.errors import GatewayError
from store.account_models import Caller
from workflows.capability_types import (
    CampaignState,
    CapabilityCampaignInput,
    CapabilityResult,
    HandlingInput,
    RetestInput,
    RetestState,
)
from workflows.double_evaluation_types import (
    DoubleEvaluationInput,
    EvaluationState,
    RankedRow,
    RemovalState,
    RemovalVoteInput,
)

S = TypeVar("S", RetestState, RemovalState)


async def _states(calls: Sequence[Awaitable[S]], kind: type[S]) -> tuple[dict[str, S], str]:
    """The states of a campaign's retests or an evaluation's removal cases, read at once:
    person id -> state, and why one could not be read (the others are shown all the same)."""
    found = await asyncio.gather(*calls, return_exceptions=True)
    states: dict[str, S] = {}
    why = ""
    for item in found:
        if isinstance(item, kind):
            states[item.person_id] = item
        elif isinstance(item, GatewayError):
            why = item.message
        elif isinstance(item, BaseException):
            raise item
    return states, why


# --------------------------------------------------------------------------- capability test


async def start_campaign(
    parts: Services,
    data: CapabilityCampaignInput,
    numbered: Sequence[tuple[int, CapabilityResult]] = (),
    title: str = "",
) -> str:
    """Check the campaign with the policy in force (``SheetProblems`` by row for a sheet's
    scores), then start it; its workflow ID."""
    policy_file = parts.settings.policy_file
    await answer(cadre_checks.check_campaign_input(data, policy_file, numbered, title))
    return await answer(cadre.start_campaign(parts.client, parts.settings.task_queue, data))


@dataclass(frozen=True)
class Campaign:
    state: CampaignState | None  # None while the campaign reads its policy
    retests: dict[str, RetestState]  # person id -> the failing cadre's retest
    unavailable: str = ""  # why a retest's state could not be read


async def campaign(parts: Services, campaign_id: str) -> Campaign:
    state = await answer(cadre.campaign_state(parts.client, campaign_id))
    if state is None:
        return Campaign(None, {})
    # a retest's ID ends with the person's id (escaped; ids of a campaign's rows hold no
    # character that is)
    started = {workflow_id.rpartition(":")[2] for workflow_id in state.retests}
    retests, why = await _states(
        [cadre.retest_state(parts.client, campaign_id, pid) for pid in sorted(started)],
        RetestState,
    )
    return Campaign(state, retests, why)


async def record_retest(
    parts: Services, who: Caller, campaign_id: str, person_id: str, fields: dict[str, Any]
) -> RetestState:
    """补测成绩 as ``who`` (``ValidationError`` when ``fields`` do not fit)."""
    data = RetestInput.model_validate({**fields, "actor": actor_of(who)})
    return await answer(cadre.record_retest(parts.client, campaign_id, person_id, data))


async def record_handling(
    parts: Services, who: Caller, campaign_id: str, person_id: str, fields: dict[str, Any]
) -> RetestState:
    """组织处理决定 as ``who``."""
    data = HandlingInput.model_validate({**fields, "actor": actor_of(who)})
    return await answer(cadre.record_handling(parts.client, campaign_id, person_id, data))


# --------------------------------------------------------------------------- double evaluation


async def preview_evaluation(parts: Services, data: DoubleEvaluationInput) -> list[RankedRow]:
    """The ranking and proposals the evaluation would record (409 for a bad tally)."""
    return await answer(cadre_checks.preview_evaluation(data, parts.settings.policy_file))


async def start_evaluation(parts: Services, data: DoubleEvaluationInput) -> str:
    await preview_evaluation(parts, data)
    return await answer(cadre.start_evaluation(parts.client, parts.settings.task_queue, data))


@dataclass(frozen=True)
class Evaluation:
    state: EvaluationState | None
    cases: dict[str, RemovalState]  # person id -> the proposed leader's removal case
    unavailable: str = ""


async def evaluation(parts: Services, evaluation_id: str) -> Evaluation:
    state = await answer(cadre.evaluation_state(parts.client, evaluation_id))
    if state is None:
        return Evaluation(None, {})
    cases, why = await _states(
        [cadre.removal_state(parts.client, evaluation_id, pid) for pid in state.cases],
        RemovalState,
    )
    return Evaluation(state, cases, why)


async def record_removal_vote(
    parts: Services, who: Caller, evaluation_id: str, person_id: str, fields: dict[str, Any]
) -> RemovalState:
    """常委会票决结果 as ``who``."""
    data = RemovalVoteInput.model_validate({**fields, "actor": actor_of(who)})
    return await answer(cadre.record_removal_vote(parts.client, evaluation_id, person_id, data))


def no_campaign(campaign_id: str) -> ApiError:
    return ApiError(404, f"没有{cadre.campaign_name(campaign_id)}", code="no_such_campaign")
