"""The cadre register (干部名册) as the source of a case's candidates, for every door (the
HTTP API, the console, the command line): the one place a door reads it for a case.

- ``fill_candidates``: a new case's candidates named by register id get their eligibility
  facts from the register as of the case's day (its ``opened_on``, else today), with the
  version read. A fact typed in as well that the register says otherwise refuses the case
  (``RegisterRefusal``, every difference said in Chinese): the register is the record, and
  a difference is a typing error or a register to correct first; a fact typed in that agrees
  is taken. The case records the version in its opening event.
- ``with_register``: a step that judges candidates again (``facts_day`` on its input: the
  inspection's start, the meeting, the appointment) is sent with the register's facts of the
  case's register candidates on that day and the version read; the case records a change
  (名册已更新) before the step uses it, so a register change never alters a running case
  silently.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CaseEvent
from store.register_queries import candidate_from_register
from workflows.rules.register_facts import register_contradictions, with_register_facts
from workflows.types import Candidate, CaseInput, Model, RegisterReading


class RegisterRefusal(ValueError):
    """A case the register contradicts, or names a person it does not have: each problem a
    sentence in Chinese; nothing was sent."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；\n".join(problems))
        self.problems = problems


@runtime_checkable
class ReadsCandidates(Protocol):
    """A step input that judges candidates again on a day of its own."""

    register_readings: list[RegisterReading]

    def facts_day(self) -> date: ...


M = TypeVar("M", bound=Model)


async def fill_candidates(session: AsyncSession, case: CaseInput, today: date) -> CaseInput:
    """``case`` with its register candidates' facts read from the register as of the case's
    day; the case unchanged when it names none. ``RegisterRefusal`` when a register id is
    unknown or a typed fact contradicts the register."""
    if not any(c.register_id is not None for c in case.candidates):
        return case
    on = case.opened_on or today
    problems: list[str] = []
    candidates: list[Candidate] = []
    for typed in case.candidates:
        if typed.register_id is None:
            candidates.append(typed)
            continue
        found = await candidate_from_register(
            session, typed.register_id, on, promotion=typed.promotion
        )
        if found is None:
            problems.append(f"人选 {typed.name}：干部名册中没有编号为 {typed.register_id} 的人员")
            continue
        problems += register_contradictions(typed, found.candidate, found.version)
        candidates.append(with_register_facts(typed, found.candidate, found.version))
    if problems:
        raise RegisterRefusal(problems)
    data = case.model_dump()
    data["candidates"] = [c.model_dump() for c in candidates]
    return CaseInput.model_validate(data)


async def register_candidates(session: AsyncSession, case_id: str) -> dict[str, str]:
    """The case's candidates named by the register: person id -> register id, as its
    opening event recorded them (a case that has none: {})."""
    payload = await session.scalar(
        select(CaseEvent.payload).where(CaseEvent.case_id == case_id, CaseEvent.kind == "opened")
    )
    case: Any = (payload or {}).get("case") or {}
    return {
        c["person_id"]: c["register_id"]
        for c in case.get("candidates") or []
        if isinstance(c, dict) and c.get("register_id")
    }


async def with_register(session: AsyncSession, case_id: str, arg: M) -> M:
    """``arg`` with the register's facts of the case's register candidates on the step's day,
    when the step judges candidates again and the case has register candidates; else
    ``arg`` as it is."""
    if not isinstance(arg, ReadsCandidates):
        return arg
    linked = await register_candidates(session, case_id)
    if not linked:
        return arg
    on = arg.facts_day()
    readings = []
    for person_id, register_id in sorted(linked.items()):
        found = await candidate_from_register(session, register_id, on)
        if found is not None:  # the register is append-only: a person once there stays
            readings.append(
                RegisterReading(
                    person_id=person_id, version=found.version, candidate=found.candidate
                )
            )
    return arg.model_copy(update={"register_readings": readings})
