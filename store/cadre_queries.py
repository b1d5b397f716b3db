"""What the database says of the capability test campaigns and the double evaluations: their
list (from the event that opened each chain, ``capability_opened`` / ``evaluation_opened``,
which holds the whole input) and, for the daily digest, where each failing cadre's retest
stands (from the events of its chain: self-study, the awaited step's deadline, the steps
recorded) and where each proposed leader's removal case stands (the vote's deadline, the
votes recorded). Temporal holds the live state (``gateway.cadre``); these need no workflow
to answer and cover every campaign and evaluation at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CaseEvent
from workflows.double_evaluation_types import RemovalVoteInput
from workflows.ids import CAPABILITY_PREFIX, REMOVAL_PREFIX
from workflows.rules import vote
from workflows.types import VoteResult

CAMPAIGN_OPENED = "capability_opened"
CAMPAIGN_FINISHED = "capability_finished"
CAMPAIGN_RESULT = "capability_result"
EVALUATION_OPENED = "evaluation_opened"
EVALUATION_FINISHED = "evaluation_finished"

SELF_STUDY = "capability_self_study"
DEADLINE = "capability_deadline"
OVERDUE = "capability_overdue"
RETEST = "capability_retest"
HANDLING = "capability_handling"
_RETEST_KINDS = (SELF_STUDY, DEADLINE, OVERDUE, RETEST, HANDLING)

REMOVAL_OPENED = "removal_opened"
REMOVAL_DEADLINE = "removal_deadline"
REMOVAL_OVERDUE = "removal_overdue"
REMOVAL_VOTE = "removal_vote"
_REMOVAL_KINDS = (REMOVAL_OPENED, REMOVAL_DEADLINE, REMOVAL_OVERDUE, REMOVAL_VOTE)


@dataclass(frozen=True)
class Opened:
    """A campaign or an evaluation as its opening event recorded it."""

    chain_id: str
    key: str  # the campaign's or the evaluation's id
    title: str
    held_on: date  # tested on, or held on
    people: int
    opened_by: str
    opened_at: datetime
    finished: bool


async def _opened(
    session: AsyncSession, opened: str, finished: str, key: str, day: str, people: str, limit: int
) -> list[Opened]:
    rows = list(
        await session.scalars(
            select(CaseEvent)
            .where(CaseEvent.kind == opened)
            .order_by(CaseEvent.occurred_at.desc(), CaseEvent.id.desc())
            .limit(limit)
        )
    )
    ids = [r.case_id for r in rows]
    done = set(
        await session.scalars(
            select(CaseEvent.case_id).where(CaseEvent.kind == finished, CaseEvent.case_id.in_(ids))
        )
    )
    out = []
    for r in rows:
        data: dict[str, Any] = r.payload.get("input", {})
        out.append(
            Opened(
                chain_id=r.case_id,
                key=str(data.get(key, "")),
                title=str(data.get("title", "")),
                held_on=date.fromisoformat(str(data.get(day))),
                people=len(data.get(people, [])),
                opened_by=r.actor_name,
                opened_at=r.occurred_at,
                finished=r.case_id in done,
            )
        )
    return out


async def campaigns(session: AsyncSession, limit: int = 200) -> list[Opened]:
    """The capability test campaigns, the newest first."""
    return await _opened(
        session, CAMPAIGN_OPENED, CAMPAIGN_FINISHED, "campaign_id", "tested_on", "results", limit
    )


async def evaluations(session: AsyncSession, limit: int = 200) -> list[Opened]:
    """The double evaluations, the newest first."""
    return await _opened(
        session,
        EVALUATION_OPENED,
        EVALUATION_FINISHED,
        "evaluation_id",
        "held_on",
        "leaders",
        limit,
    )


@dataclass
class RetestStanding:
    """Where one failing cadre's retest stands, as its chain's events say."""

    chain_id: str
    person_id: str
    name: str
    unit: str
    retest_opens_on: date | None = None
    awaited_step: str = ""  # the step's key (capability_retest, capability_handling), "" none
    deadline_on: date | None = None
    overdue: bool = False
    settled: bool = False

    @property
    def in_self_study(self) -> bool:
        return self.retest_opens_on is not None and not self.awaited_step and not self.settled


def _campaign_of(retest_chain: str) -> str:
    """The campaign's chain of a retest's chain (``capability:C:P`` → ``capability:C``); keys
    are escaped, so the only colons are the separators."""
    return retest_chain.rpartition(":")[0]


def _apply(s: RetestStanding, kind: str, payload: dict[str, Any]) -> None:
    if kind == SELF_STUDY:
        s.retest_opens_on = date.fromisoformat(str(payload["retest_opens_on"]))
    elif kind == DEADLINE:
        s.awaited_step = str(payload.get("step", ""))
        s.deadline_on = date.fromisoformat(str(payload["deadline_on"]))
        s.overdue = False
    elif kind == OVERDUE:
        s.overdue = True
    elif kind == RETEST:  # passed: settled; failed: the handling step's deadline follows
        s.awaited_step, s.deadline_on, s.overdue = "", None, False
    elif kind == HANDLING:
        s.awaited_step, s.deadline_on, s.overdue, s.settled = "", None, False, True


async def retest_standings(session: AsyncSession) -> list[RetestStanding]:
    """Every retest not yet settled by a handling decision, as its events leave it (a retest
    passed leaves no step awaited; the digest then has nothing to say of it)."""
    retest_chain = CaseEvent.case_id.like(f"{CAPABILITY_PREFIX}%:%")
    events: Sequence[CaseEvent] = list(
        await session.scalars(
            select(CaseEvent)
            .where(retest_chain, CaseEvent.kind.in_(_RETEST_KINDS))
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        )
    )
    campaigns_of = {_campaign_of(e.case_id) for e in events}
    people: dict[tuple[str, str], tuple[str, str]] = {}
    for r in await session.scalars(
        select(CaseEvent).where(
            CaseEvent.kind == CAMPAIGN_RESULT, CaseEvent.case_id.in_(campaigns_of)
        )
    ):
        p = r.payload
        people[(r.case_id, str(p.get("person_id")))] = (str(p.get("name")), str(p.get("unit")))
    standings: dict[str, RetestStanding] = {}
    for e in events:
        s = standings.get(e.case_id)
        if s is None:
            person_id = str(e.payload.get("person_id", ""))
            name, unit = people.get((_campaign_of(e.case_id), person_id), (person_id, ""))
            s = standings[e.case_id] = RetestStanding(e.case_id, person_id, name, unit)
        _apply(s, e.kind, e.payload)
    return [s for s in standings.values() if not s.settled]


@dataclass
class RemovalStanding:
    """Where one proposed leader's removal case (降免职) stands, as its chain's events say: the
    standing committee's vote awaited (by its deadline) until a vote decides it; a deferred
    vote (暂缓表决) leaves it awaited, on the same deadline."""

    chain_id: str
    evaluation_id: str = ""
    person_id: str = ""
    name: str = ""
    unit: str = ""
    post: str = ""
    deadline_on: date | None = None
    overdue: bool = False
    settled: bool = False


def vote_result(payload: dict[str, Any]) -> VoteResult:
    """The result of a recorded removal vote: as recorded, or for a vote recorded before the
    result was written with it, as the vote's rule decides its tallies."""
    if "result" in payload:
        return VoteResult(payload["result"])
    data = RemovalVoteInput.model_validate({k: v for k, v in payload.items() if k != "person_id"})
    return vote.decide_item(data.meeting, data.item(str(payload.get("person_id", ""))))


def _apply_removal(s: RemovalStanding, kind: str, payload: dict[str, Any]) -> None:
    if kind == REMOVAL_OPENED:
        s.person_id = str(payload.get("person_id", ""))
        s.evaluation_id = str(payload.get("evaluation_id", ""))
        s.name, s.unit = str(payload.get("name", "")), str(payload.get("unit", ""))
        s.post = str(payload.get("post", ""))
    elif kind == REMOVAL_DEADLINE:
        s.deadline_on = date.fromisoformat(str(payload["deadline_on"]))
        s.overdue = False
    elif kind == REMOVAL_OVERDUE:
        s.overdue = True
    elif kind == REMOVAL_VOTE and vote_result(payload) is not VoteResult.DEFERRED:
        s.settled = True


async def removal_standings(session: AsyncSession) -> list[RemovalStanding]:
    """Every removal case whose vote is still awaited."""
    events: Sequence[CaseEvent] = list(
        await session.scalars(
            select(CaseEvent)
            .where(
                CaseEvent.case_id.like(f"{REMOVAL_PREFIX}%"),
                CaseEvent.kind.in_(_REMOVAL_KINDS),
            )
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        )
    )
    standings: dict[str, RemovalStanding] = {}
    for e in events:
        s = standings.setdefault(e.case_id, RemovalStanding(e.case_id))
        _apply_removal(s, e.kind, e.payload)
    return [s for s in standings.values() if not s.settled]
