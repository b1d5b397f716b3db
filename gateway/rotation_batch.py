"""The rotation batches (交流批次) for every front end: make a batch from a scan's decided
people, read where each move stands, and record a move's steps (the rotation document, the
arrival) or cancel it. Temporal's failures come out as ``gateway.errors``, as a case's do.

Making a batch reads the scan's listing and the batches running now from the database and
applies the batch rule (``rules.rotation_batch``): only people the scan listed as due and the
department decided to rotate, each once and in one batch at a time. What a client sends is a
person id and a destination; the rest of a move (name, township left, the decision's event in
the register's chain) comes from the listing, never from the client. Who records a step is
the batch's policy (``cadre.rotation.batch``): the workflow's validator refuses any other
role (``NotPermitted``) and its rules (``Refused``); nothing refused enters the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.workflow import UpdateMethodMultiParam

from gateway import workflow_calls
from gateway.cadre_checks import cadre_policy
from gateway.errors import NoSuchCase, Refused
from store.register_queries import rotation_listing, rotation_scan
from store.rotation_batch_queries import moving_elsewhere
from workflows.cadre_policy import RotationBatchPolicy
from workflows.ids import rotation_batch_workflow_id
from workflows.rotation_batch import MAX_MOVES, RotationBatchWorkflow
from workflows.rotation_batch_types import (
    ArrivalInput,
    CancelMoveInput,
    DocumentInput,
    MoveState,
    PlannedMove,
    RotationBatchInput,
    RotationBatchState,
)
from workflows.rules import rotation_batch as rule
from workflows.rules.errors import RuleViolation
from workflows.types import Actor

I = TypeVar("I", DocumentInput, ArrivalInput, CancelMoveInput)  # noqa: E741 - a step's input


@dataclass(frozen=True)
class Destination:
    """Where the department sends one person of the scan (what a client may say)."""

    person_id: str
    to_unit: str
    to_township: str | None = None
    to_post: str = ""


def batch_name(batch_id: str) -> str:
    return f"交流批次 {batch_id}"


async def batch_policy(policy_file: Path) -> RotationBatchPolicy:
    """The policy in force's ``cadre.rotation.batch``; ``Refused`` without it."""
    batch = (await cadre_policy(policy_file)).rotation.batch
    if batch is None:
        raise Refused(
            f"政策文件（{policy_file.name}）缺少 cadre.rotation.batch 一节："
            "交流批次各环节的期限须在政策中规定"
        )
    return batch


async def plan_batch(
    session: AsyncSession,
    *,
    batch_id: str,
    title: str,
    scan_id: str,
    made_on: date,
    moves: Sequence[Destination],
    opened_by: Actor,
) -> RotationBatchInput:
    """The batch's input from the scan's listing, under the batch rule; ``NoSuchCase`` for a
    scan that is not there, ``Refused`` naming every person who may not be in it."""
    scan = await rotation_scan(session, scan_id)
    if scan is None:
        raise NoSuchCase(f"没有交流排查 {scan_id}")
    if len(moves) > MAX_MOVES:
        raise Refused(f"一个交流批次最多 {MAX_MOVES} 人，本批次 {len(moves)} 人：请分批编组")
    listed = {p.person_id: p for p in await rotation_listing(session, scan_id)}
    wanted = [rule.Wanted(m.person_id, m.to_unit, m.to_township) for m in moves]
    elsewhere = await moving_elsewhere(session, [m.person_id for m in moves])
    try:
        rule.check_made_on(made_on, scan.as_of)
        rule.check_members(
            wanted,
            scan_id,
            {pid: rule.Listed(pid, p.name, p.township, p.decision) for pid, p in listed.items()},
            elsewhere,
        )
    except RuleViolation as e:
        raise Refused(e.message, e.rule) from e
    planned = []
    for m in moves:
        p = listed[m.person_id]
        assert p.decision_seq is not None  # decided 交流: checked above
        planned.append(
            PlannedMove(
                person_id=m.person_id,
                name=p.name,
                from_township=p.township,
                to_unit=m.to_unit.strip(),
                to_township=(m.to_township or "").strip() or None,
                to_post=m.to_post.strip(),
                decision_seq=p.decision_seq,
                register_version=p.register_version,
            )
        )
    return RotationBatchInput(
        batch_id=batch_id,
        title=title,
        scan_id=scan_id,
        scan_as_of=scan.as_of,
        made_on=made_on,
        moves=planned,
        opened_by=opened_by,
    )


async def make_batch(
    client: Client,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    policy_file: Path,
    *,
    batch_id: str,
    title: str,
    scan_id: str,
    made_on: date,
    moves: Sequence[Destination],
    opened_by: Actor,
) -> str:
    """Check the batch (the policy in force has the batch's steps; the batch rule) and start
    it; its workflow ID, from the batch's id (never used twice)."""
    await batch_policy(policy_file)
    async with sessions() as session:
        data = await plan_batch(
            session,
            batch_id=batch_id,
            title=title,
            scan_id=scan_id,
            made_on=made_on,
            moves=moves,
            opened_by=opened_by,
        )
    return await workflow_calls.start(
        client,
        task_queue,
        batch_name(batch_id),
        RotationBatchWorkflow.run,
        data,
        rotation_batch_workflow_id(batch_id),
    )


async def batch_state(client: Client, batch_id: str) -> RotationBatchState:
    workflow_id = rotation_batch_workflow_id(batch_id)
    about = batch_name(batch_id)
    return await workflow_calls.query(client, workflow_id, about, RotationBatchWorkflow.state)


async def record_document(client: Client, batch_id: str, data: DocumentInput) -> MoveState:
    """交流文件印发; the move after it."""
    return await _update(client, batch_id, RotationBatchWorkflow.record_document, data)


async def record_arrival(client: Client, batch_id: str, data: ArrivalInput) -> MoveState:
    """到岗报到 (the register gets the new post); the move after it."""
    return await _update(client, batch_id, RotationBatchWorkflow.record_arrival, data)


async def cancel_move(client: Client, batch_id: str, data: CancelMoveInput) -> MoveState:
    """撤销交流; the move after it."""
    return await _update(client, batch_id, RotationBatchWorkflow.cancel_move, data)


async def _update(
    client: Client,
    batch_id: str,
    step: UpdateMethodMultiParam[[RotationBatchWorkflow, I], MoveState],
    data: I,
) -> MoveState:
    workflow_id = rotation_batch_workflow_id(batch_id)
    return await workflow_calls.update(client, workflow_id, batch_name(batch_id), step, data)
