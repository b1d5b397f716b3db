"""Typed input, updates and state of ``RotationBatchWorkflow`` (交流批次), and the input of
the activity that gives the register a cadre's new post on arrival. New fields always get
defaults, so running batches keep replaying.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from workflows.cadre_enums import MoveStatus
from workflows.register_types import PersonId
from workflows.types import ID_MAX, ID_PATTERN, Actor, Line, Model, StepSchedule, Text

# a batch's key as it goes into the workflow id and the chain's id
Unit = Line  # a unit's name (单位)


class PlannedMove(Model):
    """One person of a batch: who, from where to where, and the decision that named him.
    Filled from the scan's listing by the server (``gateway.rotation_batch``), never by a
    client: a client names the person and the destination only."""

    person_id: PersonId
    name: Line = Field(min_length=1, max_length=100)
    from_township: Line = Field(min_length=1, max_length=100)
    to_unit: Unit = Field(min_length=1, max_length=200)
    to_township: Line | None = Field(default=None, max_length=100)
    to_post: Line = Field(default="", max_length=200)  # "" keeps the title held
    decision_seq: int = Field(ge=1)  # the 交流 decision's event in the register's chain
    register_version: int = Field(ge=1)  # the version the scan read


class RotationBatchInput(Model):
    batch_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    title: Line = Field(min_length=1, max_length=200)
    scan_id: Line = Field(min_length=1, max_length=200)
    scan_as_of: date
    made_on: date  # the day the department made the batch (Beijing)
    moves: list[PlannedMove] = Field(min_length=1, max_length=500)
    opened_by: Actor

    @model_validator(mode="after")
    def _each_person_once(self) -> RotationBatchInput:
        counts = Counter(m.person_id for m in self.moves)
        twice = sorted(pid for pid, n in counts.items() if n > 1)
        if twice:
            raise PydanticCustomError(
                "duplicate", "同一人在交流批次中出现了不止一次：{ids}", {"ids": "、".join(twice)}
            )
        return self


# --------------------------------------------------------------------------- updates


class DocumentInput(Model):
    """交流文件印发: the rotation document of one move (its number and its day)."""

    actor: Actor
    person_id: PersonId
    issued_on: date
    reference: Line = Field(min_length=1, max_length=100)  # 文号


class ArrivalInput(Model):
    """到岗报到: the cadre reported at the new post on ``arrived_on``."""

    actor: Actor
    person_id: PersonId
    arrived_on: date
    note: Text = Field(default="", max_length=2000)


class CancelMoveInput(Model):
    """撤销交流: a move the department will not carry out, and why."""

    actor: Actor
    person_id: PersonId
    reason: Text = Field(min_length=1, max_length=2000)


class DocumentRecord(Model):
    issued_on: date
    reference: str
    actor: Actor
    recorded_at: datetime


class ArrivalRecord(Model):
    arrived_on: date
    note: str
    actor: Actor
    recorded_at: datetime
    register_version: int  # the register's version with the new post


class CancelRecord(Model):
    reason: str
    actor: Actor
    recorded_at: datetime


class MoveState(Model):
    person_id: str
    name: str
    from_township: str
    to_unit: str
    to_township: str | None = None
    to_post: str = ""
    decision_seq: int
    status: MoveStatus = MoveStatus.AWAITING_DOCUMENT
    document_schedule: StepSchedule | None = None
    document: DocumentRecord | None = None
    arrival_schedule: StepSchedule | None = None
    arrival: ArrivalRecord | None = None
    cancellation: CancelRecord | None = None
    overdue: bool = False
    blocked_reason: str = ""

    @property
    def settled(self) -> bool:
        return self.status in (MoveStatus.ARRIVED, MoveStatus.CANCELLED)

    @property
    def destination(self) -> str:
        where = f"（{self.to_township}）" if self.to_township else ""
        return f"{self.to_unit}{where}"

    @property
    def awaited_schedule(self) -> StepSchedule | None:
        if self.status is MoveStatus.AWAITING_DOCUMENT:
            return self.document_schedule
        if self.status is MoveStatus.AWAITING_ARRIVAL:
            return self.arrival_schedule
        return None


class RotationBatchState(Model):
    chain_id: str
    batch_id: str
    title: str
    scan_id: str
    made_on: date
    opened_by: str
    policy_version: str = ""
    moves: list[MoveState] = Field(default_factory=list)
    finished: bool = False
    events_recorded: int = 0

    def move(self, person_id: str) -> MoveState | None:
        return next((m for m in self.moves if m.person_id == person_id), None)


# --------------------------------------------------------------------------- the register


class RotationArrivalInput(Model):
    """The new post a cadre took on arrival, for the register (``store.register``)."""

    batch_id: str
    title: str
    person_id: PersonId
    from_township: str
    to_unit: str
    to_township: str | None = None
    to_post: str = ""
    arrived_on: date
    actor: Actor


class RotationArrivalResult(Model):
    version: int  # the register's version holding the new post
    written: bool  # False: an earlier try had written it
