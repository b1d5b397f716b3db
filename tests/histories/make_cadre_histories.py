"""Regenerate tests/histories/cadre_*.json: the cadre-management workflows (run by hand).

    .venv/bin/python -m tests.histories.make_cadre_histories [SCENARIO ...]   # all, or these

Runs each scenario (a path test of the capability test, the double evaluation or the
rotation batch) on a fresh time-skipping server with the real worker and activities, on a
throwaway PostgreSQL database (TEST_DATABASE_SERVER_URL, default the local server) that is
dropped afterwards, then saves the history of every workflow the scenario ran, parents and
children, as JSON beside this file. ``tests/test_replay_cadre.py`` replays them, so a change
to these workflows that is not guarded by ``workflow.patched`` fails there before it can
reach a retest, a removal case or a batch still running.

Regenerate only for a deliberate, patched change, and keep the old files next to the new
ones for as long as workflows started under the old code may still be running.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowFailureError, WorkflowHandle

from store.db import make_engine, make_session_factory, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.conftest import throwaway_database_name
from tests.histories.make_case_histories import SERVER_URL
from tests.workflows import test_capability_campaign, test_double_evaluation, test_rotation_batch
from tests.workflows.conftest import CaseRunner, case_runner, start_time_skipping
from workflows.capability_types import CampaignState
from workflows.double_evaluation_types import EvaluationState
from workflows.ids import (
    CAPABILITY_PREFIX,
    DOUBLE_EVALUATION_PREFIX,
    ROTATION_BATCH_PREFIX,
    removal_case_workflow_id,
)
from workflows.rotation_batch_types import RotationBatchState

HERE = Path(__file__).resolve().parent

# A scenario runs its path test and names the workflows to save: saved name -> workflow id.
Scenario = Callable[[CaseRunner, async_sessionmaker[AsyncSession]], Awaitable[dict[str, str]]]


def started(runner: CaseRunner, prefix: str) -> WorkflowHandle[Any, Any]:
    """The one workflow the path test started (and left in ``runner.started``) by its ID."""
    (handle,) = [h for h in runner.started if h.id.startswith(prefix)]
    return handle


async def capability_fail_retest_handling(
    runner: CaseRunner, _: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """Three cadres, one failing: self-study, the retest failed again, the handling decided."""
    await test_capability_campaign.test_fail_self_study_fail_again_handling(runner)
    campaign = started(runner, CAPABILITY_PREFIX)
    end: CampaignState = await campaign.result()
    (retest,) = end.retests
    return {
        "cadre_capability_fail_retest_handling": campaign.id,
        "cadre_capability_fail_retest_handling_retest": retest,
    }


async def capability_retest_pass(
    runner: CaseRunner, _: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """One cadre failing the first test and passing the retest."""
    await test_capability_campaign.test_fail_then_pass_the_retest(runner)
    campaign = started(runner, CAPABILITY_PREFIX)
    end: CampaignState = await campaign.result()
    (retest,) = end.retests
    return {
        "cadre_capability_retest_pass": campaign.id,
        "cadre_capability_retest_pass_retest": retest,
    }


async def capability_refused(
    runner: CaseRunner, _: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """A score over the full mark: the campaign fails before it records anything."""
    await test_capability_campaign.test_a_score_over_the_full_mark_refuses_the_campaign(runner)
    return {"cadre_capability_refused": started(runner, CAPABILITY_PREFIX).id}


async def double_evaluation(
    runner: CaseRunner, _: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """The edge tallies: three removal cases, one voted through, one voted down, one
    deferred and then voted through."""
    await test_double_evaluation.test_the_edge_tallies_propose_exactly_the_leaders_the_rule_names(
        runner
    )
    evaluation = started(runner, DOUBLE_EVALUATION_PREFIX)
    end: EvaluationState = await evaluation.result()

    def case(person_id: str) -> str:
        return removal_case_workflow_id(end.evaluation_id, person_id)

    return {
        "cadre_double_evaluation": evaluation.id,
        "cadre_removal_vote": case("L4"),
        "cadre_removal_vote_rejected": case("L7"),
        "cadre_removal_deferred_then_vote": case("L8"),
    }


async def double_evaluation_refused(
    runner: CaseRunner, _: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """A tally with more votes than voters: the evaluation fails before it records anything."""
    await test_double_evaluation.test_a_bad_tally_refuses_the_evaluation_and_records_nothing(runner)
    return {"cadre_double_evaluation_refused": started(runner, DOUBLE_EVALUATION_PREFIX).id}


async def rotation(
    runner: CaseRunner, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """A scan over the register, then a batch of its three cadres: one arrives on time, one
    late (reminders, the escalation), one is cancelled."""
    await test_rotation_batch.test_a_batch_of_three_moves(runner, sessions)
    batch = runner.env.client.get_workflow_handle(
        started(runner, ROTATION_BATCH_PREFIX).id, result_type=RotationBatchState
    )
    end = await batch.result()
    return {"cadre_rotation_scan": end.scan_id, "cadre_rotation_batch": batch.id}


SCENARIOS: dict[str, Scenario] = {
    "capability_fail_retest_handling": capability_fail_retest_handling,
    "capability_retest_pass": capability_retest_pass,
    "capability_refused": capability_refused,
    "double_evaluation": double_evaluation,
    "double_evaluation_refused": double_evaluation_refused,
    "rotation": rotation,
}


async def save(runner: CaseRunner, saved: str, workflow_id: str) -> None:
    handle = runner.env.client.get_workflow_handle(workflow_id)
    try:
        await handle.result()
    except WorkflowFailureError:  # a refused run is a path too: its history is saved
        pass
    history = await handle.fetch_history()
    path = HERE / f"{saved}.json"
    path.write_text(history.to_json() + "\n", "utf-8")
    print(f"{path.relative_to(HERE.parent.parent)}: {len(history.events)} events")


async def main(only: list[str]) -> None:
    unknown = sorted(set(only) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"no such scenario: {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    name = throwaway_database_name("histories")
    await ensure_database(SERVER_URL, name)
    url = with_database(SERVER_URL, name)
    engine = make_engine(url)
    try:
        await upgrade_to_head(url)
        sessions = make_session_factory(engine)
        for key, scenario in SCENARIOS.items():
            if only and key not in only:
                continue
            env = await start_time_skipping()
            try:
                async with case_runner(env, sessions) as runner:
                    for saved, workflow_id in (await scenario(runner, sessions)).items():
                        await save(runner, saved, workflow_id)
            finally:
                await env.shutdown()
    finally:
        await engine.dispose()
        await drop_database(SERVER_URL, name)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
    sys.stdout.flush()
    os._exit(0)  # see TOOLCHAIN: the SDK can abort during interpreter teardown
