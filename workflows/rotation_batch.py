"""``RotationBatchWorkflow``: one rotation batch (交流批次), each move followed to its end.

Started by a door (``gateway.rotation_batch``) with the ID ``rotation_batch_workflow_id``,
with the people the department decided to rotate, checked before it starts against the
scan's listing (``rules.rotation_batch``: listed as due, decided 交流, not twice, not in
another batch). Under the policy it reads when it starts (``cadre.rotation.batch``), every
move goes on side by side:

1. **交流文件印发** (the rotation document): a step from the day the batch was made, with a
   deadline in working days, reminders and an escalation ladder (``workflows.cadre_steps``);
   the update ``record_document`` (a role of ``document_roles``) records its number and day.
2. **到岗报到** (reporting at the new post): a step the same way from the document's day;
   the update ``record_arrival`` (a role of ``arrival_roles``) gives the register the new
   post first (the activity ``record_rotation_arrival``: a new version of the cadre's record,
   in the register's chain, the batch named as the reason), then records the arrival.

A move not yet arrived is cancelled by ``cancel_move`` (a role of ``cancel_roles``) with a
reason. The batch ends when every move has arrived or been cancelled. Every step is recorded
in the batch's audit chain (``workflows.cadre_records``), its alarms mailed to the roles.

History: per move two steps with their ladders, a dozen activities or so; a batch holds at
most ``MAX_MOVES`` moves (the seed's county rotated 86 in a year), which keeps a batch's
history well under Temporal's limits, so there is no continue-as-new. Changes to the order
of its commands while batches run go behind ``workflow.patched``.
"""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import LOAD_POLICY, RECORD_ROTATION_ARRIVAL, call
    from workflows.cadre_enums import MoveStatus
    from workflows.cadre_policy import RotationBatchPolicy
    from workflows.cadre_records import ACTIVITY_TIMEOUT, chain_listing, record
    from workflows.cadre_steps import check_role, keep_step, refused, today
    from workflows.glossary import CADRE_STEPS, zh
    from workflows.rotation_batch_types import (
        ArrivalInput,
        ArrivalRecord,
        CancelMoveInput,
        CancelRecord,
        DocumentInput,
        DocumentRecord,
        MoveState,
        RotationArrivalInput,
        RotationBatchInput,
        RotationBatchState,
    )
    from workflows.rules import rotation_batch as rule
    from workflows.rules.errors import RuleViolation
    from workflows.types import CaseRow, PolicyRequest, StepSchedule

__all__ = ["ARRIVAL_STEP", "DOCUMENT_STEP", "MAX_MOVES", "RotationBatchWorkflow"]

DOCUMENT_STEP = "rotation_document"
ARRIVAL_STEP = "rotation_arrival"
DOCUMENT = CADRE_STEPS["record_rotation_document"]
ARRIVAL = CADRE_STEPS["record_rotation_arrival"]
CANCEL = CADRE_STEPS["cancel_rotation_move"]
MAX_MOVES = 100  # a batch's moves: its history stays well under Temporal's limits
STARTING = "交流批次正在启动"
POLICY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))
# a register the department must correct first is not retried (the clerk is told why)
REGISTER_RETRY = RetryPolicy(
    maximum_interval=timedelta(minutes=1), non_retryable_error_types=["RegisterRefused"]
)


class _MoveSteps:
    """One move seen as a stepped workflow's state (``cadre_steps.Stepped``): its own person,
    overdue flag and blocked reason; the batch's chain and count of events recorded."""

    def __init__(self, batch: RotationBatchState, move: MoveState) -> None:
        self._batch = batch
        self._move = move
        self.chain_id: str = batch.chain_id
        self.person_id: str = move.person_id
        self.name: str = move.name
        self.unit: str = f"{move.from_township} → {move.destination}"

    @property
    def events_recorded(self) -> int:
        return self._batch.events_recorded

    @events_recorded.setter
    def events_recorded(self, value: int) -> None:
        self._batch.events_recorded = value

    @property
    def overdue(self) -> bool:
        return self._move.overdue

    @overdue.setter
    def overdue(self, value: bool) -> None:
        self._move.overdue = value

    @property
    def blocked_reason(self) -> str:
        return self._move.blocked_reason

    @blocked_reason.setter
    def blocked_reason(self, value: str) -> None:
        self._move.blocked_reason = value


@workflow.defn
class RotationBatchWorkflow:
    @workflow.init
    def __init__(self, input: RotationBatchInput) -> None:
        self._input = input
        self._lock = asyncio.Lock()
        self._rules: RotationBatchPolicy | None = None
        self._state = RotationBatchState(
            chain_id=workflow.info().workflow_id,
            batch_id=input.batch_id,
            title=input.title,
            scan_id=input.scan_id,
            made_on=input.made_on,
            opened_by=input.opened_by.name,
            moves=[
                MoveState(
                    person_id=m.person_id,
                    name=m.name,
                    from_township=m.from_township,
                    to_unit=m.to_unit,
                    to_township=m.to_township,
                    to_post=m.to_post,
                    decision_seq=m.decision_seq,
                )
                for m in input.moves
            ],
        )
        self._listing: CaseRow = chain_listing(
            self._state.chain_id, "组织部", f"交流批次：{input.title}", input.made_on
        )

    @workflow.run
    async def run(self, input: RotationBatchInput) -> RotationBatchState:
        s = self._state
        snapshot = await call(
            LOAD_POLICY,
            PolicyRequest(case_id=s.chain_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=POLICY_RETRY,
        )
        cadre = snapshot.policy.cadre
        rules = cadre.rotation.batch if cadre is not None else None
        if rules is None:
            raise ApplicationError(
                f"政策文件（版本 {snapshot.policy.version}）没有 cadre.rotation.batch 一节："
                "交流批次各环节的期限须在政策中规定",
                non_retryable=True,
            )
        if len(input.moves) > MAX_MOVES:
            raise ApplicationError(
                f"一个交流批次最多 {MAX_MOVES} 人，本批次 {len(input.moves)} 人：请分批编组",
                non_retryable=True,
            )
        try:
            rule.check_made_on(input.made_on, input.scan_as_of)
        except RuleViolation as e:
            raise refused(e) from e
        async with self._lock:
            self._rules = rules
            s.policy_version = snapshot.policy.version
            names = "、".join(f"{m.name}（{m.from_township} → {m.destination}）" for m in s.moves)
            await self._record(
                "rotation_batch_opened",
                f"{input.opened_by.name}编组交流批次「{input.title}」（排查 {input.scan_id}），"
                f"共 {len(s.moves)} 人：{names}",
                actor=input.opened_by,
                payload={
                    "input": input.model_dump(mode="json"),
                    "policy_version": s.policy_version,
                },
            )
        await asyncio.gather(*(self._follow(m) for m in s.moves))
        async with self._lock:
            s.finished = True
            arrived = sum(m.status is MoveStatus.ARRIVED for m in s.moves)
            await self._record(
                "rotation_batch_finished",
                f"交流批次「{s.title}」办结：{arrived} 人到岗，{len(s.moves) - arrived} 人撤销",
                payload={"arrived": arrived, "cancelled": len(s.moves) - arrived},
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    # ------------------------------------------------------------------ one move

    async def _follow(self, move: MoveState) -> None:
        rules = self._policy()
        view = _MoveSteps(self._state, move)

        def documented() -> bool:
            return move.document is not None or move.settled

        def document_scheduled(schedule: StepSchedule) -> None:
            move.document_schedule = schedule

        await keep_step(
            view,
            self._listing,
            "rotation",
            DOCUMENT_STEP,
            DOCUMENT,
            self._state.made_on,
            rules.document,
            documented,
            self._lock,
            document_scheduled,
        )
        if move.document is None or move.settled:
            return

        def arrival_scheduled(schedule: StepSchedule) -> None:
            move.arrival_schedule = schedule

        await keep_step(
            view,
            self._listing,
            "rotation",
            ARRIVAL_STEP,
            ARRIVAL,
            move.document.issued_on,
            rules.arrival,
            lambda: move.settled,
            self._lock,
            arrival_scheduled,
        )

    # ------------------------------------------------------------------ queries and updates

    @workflow.query
    def state(self) -> RotationBatchState:
        return self._state

    @workflow.update
    async def record_document(self, data: DocumentInput) -> MoveState:
        async with self._lock:
            move = self._check_document(data)
            rules = self._policy()
            move.document = DocumentRecord(
                issued_on=data.issued_on,
                reference=data.reference,
                actor=data.actor,
                recorded_at=workflow.now(),
            )
            move.status = MoveStatus.AWAITING_ARRIVAL
            move.overdue = False
            summary = (
                f"{move.name}交流至{move.destination}的交流文件已于 {data.issued_on} 印发"
                f"（{data.reference}），登记人 {data.actor.name}（{zh(data.actor.role)}）"
            )
            await self._record(
                "rotation_document",
                summary,
                actor=data.actor,
                payload=data.model_dump(mode="json"),
                mail=(
                    [rules.arrival.responsible_role],
                    f"交流文件已印发：{move.name}",
                    f"{summary}。请在其到岗报到后登记。\n\n（交流批次 {self._state.batch_id}）",
                ),
            )
            return move

    @record_document.validator
    def _v_document(self, data: DocumentInput) -> None:
        self._check_document(data)

    def _check_document(self, data: DocumentInput) -> MoveState:
        rules = self._policy()
        check_role(data.actor, rules.document_roles, DOCUMENT, rule.RULE_MEMBERS)
        move = self._move(data.person_id)
        try:
            if move.status is not MoveStatus.AWAITING_DOCUMENT:
                raise RuleViolation(
                    f"{move.name}的交流现在{zh(move.status)}，不能{DOCUMENT}", rule.RULE_DATES
                )
            rule.check_document_on(data.issued_on, self._state.made_on, today())
        except RuleViolation as e:
            raise refused(e) from e
        return move

    @workflow.update
    async def record_arrival(self, data: ArrivalInput) -> MoveState:
        async with self._lock:
            move = self._check_arrival(data)
            s = self._state
            try:
                written = await call(
                    RECORD_ROTATION_ARRIVAL,
                    RotationArrivalInput(
                        batch_id=s.batch_id,
                        title=s.title,
                        person_id=move.person_id,
                        from_township=move.from_township,
                        to_unit=move.to_unit,
                        to_township=move.to_township,
                        to_post=move.to_post,
                        arrived_on=data.arrived_on,
                        actor=data.actor,
                    ),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=REGISTER_RETRY,
                )
            except ActivityError as e:
                cause = e.cause
                if isinstance(cause, ApplicationError) and cause.type == "RegisterRefused":
                    raise ApplicationError(
                        cause.message, type="RegisterRefused", non_retryable=True
                    ) from e
                raise
            move.arrival = ArrivalRecord(
                arrived_on=data.arrived_on,
                note=data.note,
                actor=data.actor,
                recorded_at=workflow.now(),
                register_version=written.version,
            )
            move.status = MoveStatus.ARRIVED
            move.overdue = False
            note = f"（{data.note}）" if data.note else ""
            await self._record(
                "rotation_arrived",
                f"{move.name}于 {data.arrived_on} 到{move.destination}报到{note}，"
                f"干部名册第 {written.version} 版记其新职务；"
                f"登记人 {data.actor.name}（{zh(data.actor.role)}）",
                actor=data.actor,
                payload={**data.model_dump(mode="json"), "register_version": written.version},
            )
            return move

    @record_arrival.validator
    def _v_arrival(self, data: ArrivalInput) -> None:
        self._check_arrival(data)

    def _check_arrival(self, data: ArrivalInput) -> MoveState:
        rules = self._policy()
        check_role(data.actor, rules.arrival_roles, ARRIVAL, rule.RULE_MEMBERS)
        move = self._move(data.person_id)
        try:
            if move.status is not MoveStatus.AWAITING_ARRIVAL or move.document is None:
                raise RuleViolation(
                    f"{move.name}的交流现在{zh(move.status)}，不能{ARRIVAL}", rule.RULE_DATES
                )
            rule.check_arrival_on(data.arrived_on, move.document.issued_on, today())
        except RuleViolation as e:
            raise refused(e) from e
        return move

    @workflow.update
    async def cancel_move(self, data: CancelMoveInput) -> MoveState:
        async with self._lock:
            move = self._check_cancel(data)
            rules = self._policy()
            move.cancellation = CancelRecord(
                reason=data.reason, actor=data.actor, recorded_at=workflow.now()
            )
            move.status = MoveStatus.CANCELLED
            move.overdue = False
            summary = (
                f"撤销{move.name}交流至{move.destination}：{data.reason}；"
                f"{data.actor.name}（{zh(data.actor.role)}）"
            )
            await self._record(
                "rotation_move_cancelled",
                summary,
                actor=data.actor,
                payload=data.model_dump(mode="json"),
                mail=(
                    [rules.document.responsible_role, rules.arrival.responsible_role],
                    f"撤销交流：{move.name}",
                    f"{summary}\n\n（交流批次 {self._state.batch_id}）",
                ),
            )
            return move

    @cancel_move.validator
    def _v_cancel(self, data: CancelMoveInput) -> None:
        self._check_cancel(data)

    def _check_cancel(self, data: CancelMoveInput) -> MoveState:
        rules = self._policy()
        check_role(data.actor, rules.cancel_roles, CANCEL, rule.RULE_MEMBERS)
        move = self._move(data.person_id)
        if move.settled:
            raise refused(
                RuleViolation(
                    f"{move.name}的交流已{zh(move.status).removeprefix('已')}，不能{CANCEL}",
                    rule.RULE_DATES,
                )
            )
        if not data.reason.strip():
            raise refused(RuleViolation(f"{CANCEL}须说明理由", rule.RULE_DATES))
        return move

    # ------------------------------------------------------------------ plumbing

    def _policy(self) -> RotationBatchPolicy:
        if self._rules is None:
            raise ApplicationError(f"{STARTING}，请稍后再试", type="Starting", non_retryable=True)
        return self._rules

    def _move(self, person_id: str) -> MoveState:
        move = self._state.move(person_id)
        if move is None:
            raise refused(
                RuleViolation(
                    f"交流批次 {self._state.batch_id} 中没有 {person_id}", rule.RULE_MEMBERS
                )
            )
        return move

    async def _record(self, kind: str, summary: str, **kwargs: Any) -> None:
        await record(self._state, self._listing, kind, summary, **kwargs)
