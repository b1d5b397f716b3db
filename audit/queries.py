"""What auditors ask of the log (审计查询): a timeline, searches, a case as it was on a date.

Everything here reads ``case_events`` (and ``cases`` only to find a unit's cases), or for the
probations of a case's appointees ``probation_events`` (and ``probations`` only to find them),
and returns frozen rows. Stages and roles stay plain text: an auditor's tool must be able to
show an event whatever it says, even one written by a later version or by someone tampering.

Searches page by keyset on (occurred_at, id), oldest first: the cursor of a page is the last
row's pair, so a page never shifts when events are recorded meanwhile. Each filter has an
index ending in (occurred_at, id) (migration 0002); a person is found through ``person_ids``,
every person id the payload names at any depth, under a GIN index.

The timeline, the searches and a probation's chain are read as plain rows on the session's own
connection (asyncpg, no ORM objects): once the session's transaction is open on the server,
straight through the driver; the session's first statement goes through SQLAlchemy, so the
transaction opens as the caller set it up (e.g. REPEATABLE READ for a dossier).

Days are days in Asia/Shanghai, as the department counts them: "up to 2026-09-15" means up
to midnight at the end of that day, Beijing time. Searches go by the moment an event was
recorded; "a case as of a day" by the day its act happened (``audit.act_dates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.act_dates import act_days
from audit.chain import (
    CASE_CHAIN,
    PROBATION_CHAIN,
    Chain,
    ChainLink,
    iso_utc,
    loads_json,
    parse_iso_utc,
)
from audit.driver import as_dbapi_errors, driver_of
from store.models import CaseEvent
from store.probation_models import Probation, ProbationEvent
from workflows.rules.working_days import SHANGHAI

MAX_PAGE_SIZE = 1000
# The kinds that change where a case stands; the others (inputs, deadlines, reminders, ...)
# happen within a stage.
STANDING_KINDS = frozenset({"opened", "transition", "closed"})


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    case_id: str
    seq: int
    chain_index: int
    kind: str
    stage: str
    occurred_at: datetime
    actor_name: str
    actor_role: str
    summary: str
    payload: dict[str, Any]
    recorded_at: datetime
    prev_hash: str
    hash: str
    person_ids: tuple[str, ...]

    @classmethod
    def of_row(cls, row: Sequence[Any]) -> AuditEvent:
        """From a row of ``_EVENT_COLUMNS`` (the fields in order, the payload as JSON text)."""
        return cls(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            loads_json(row[10]),
            row[11],
            row[12],
            row[13],
            tuple(row[14]),
        )

    @classmethod
    def of(cls, e: CaseEvent) -> AuditEvent:
        return cls(
            id=e.id,
            case_id=e.case_id,
            seq=e.seq,
            chain_index=e.chain_index,
            kind=e.kind,
            stage=e.stage,
            occurred_at=e.occurred_at,
            actor_name=e.actor_name,
            actor_role=e.actor_role,
            summary=e.summary,
            payload=e.payload,
            recorded_at=e.recorded_at,
            prev_hash=e.prev_hash,
            hash=e.hash,
            person_ids=tuple(e.person_ids),
        )

    def link(self) -> ChainLink:
        """The event as its chain has it."""
        return ChainLink(CASE_CHAIN.fields_of(self), self.prev_hash, self.hash)


@dataclass(frozen=True, slots=True)
class LoggedLink:
    """An event of any chain with the database's own bookkeeping of its row (not hashed)."""

    link: ChainLink
    id: int
    recorded_at: datetime

    @classmethod
    def of(cls, chain: Chain, row: CaseEvent | ProbationEvent) -> LoggedLink:
        link = ChainLink(chain.fields_of(row), row.prev_hash, row.hash)
        return cls(link, row.id, row.recorded_at)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in Beijing time."""
    return datetime.combine(day, time(), tzinfo=SHANGHAI)


_EVENT_COLUMNS = (
    "id, case_id, seq, chain_index, kind, stage, occurred_at, actor_name, actor_role, summary, "
    "payload::text, recorded_at, prev_hash, hash, person_ids"
)


async def rows(session: AsyncSession, query: str, *arguments: Any) -> Sequence[Sequence[Any]]:
    """The rows of ``query`` (parameters $1, $2, ...) in the session's transaction, as tuples.

    Once the transaction is open on the server the query goes straight to asyncpg on the
    session's connection; before that, through SQLAlchemy, which opens it first as the
    session was set up. Errors are SQLAlchemy's either way (``DBAPIError``)."""
    conn, driver = await driver_of(session)
    if not driver.is_in_transaction():
        return (await conn.exec_driver_sql(query, arguments)).all()
    with as_dbapi_errors(query, arguments):
        return await driver.fetch(query, *arguments)


async def timeline(session: AsyncSession, case_id: str) -> list[AuditEvent]:
    """Every event of a case, in the order the workflow numbered them."""
    query = f"SELECT {_EVENT_COLUMNS} FROM case_events WHERE case_id = $1 ORDER BY seq"
    return [AuditEvent.of_row(row) for row in await rows(session, query, case_id)]


# --------------------------------------------------------------------------- probations


async def probation_chain(session: AsyncSession, probation_id: str) -> list[LoggedLink]:
    """Every event of a probation, in chain order."""
    names = PROBATION_CHAIN.field_names()
    columns = ", ".join("payload::text" if n == "payload" else n for n in names)
    query = (
        f"SELECT {columns}, prev_hash, hash, id, recorded_at FROM probation_events "
        "WHERE probation_id = $1 ORDER BY chain_index"
    )
    at = names.index("payload")
    links = []
    for row in await rows(session, query, probation_id):
        values = list(row[: len(names)])
        values[at] = loads_json(values[at])
        fields = PROBATION_CHAIN.fields(*values)
        n = len(names)
        links.append(LoggedLink(ChainLink(fields, row[n], row[n + 1]), row[n + 2], row[n + 3]))
    return links


def started_probations(events: Sequence[AuditEvent]) -> set[str]:
    """The probations a case's events say it started (its "probation" events)."""
    return {
        e.payload["probation_id"]
        for e in events
        if e.kind == "probation" and isinstance(e.payload.get("probation_id"), str)
    }


async def case_probations(session: AsyncSession, case_id: str) -> list[str]:
    """The probations of a case's appointees, sorted: those its events say it started, and
    those whose listing names the case (e.g. one brought in by ``probation import``)."""
    started = select(CaseEvent.payload["probation_id"].astext).where(
        CaseEvent.case_id == case_id,
        CaseEvent.kind == "probation",
        CaseEvent.payload.has_key("probation_id"),
    )
    listed = select(Probation.probation_id).where(Probation.case_id == case_id)
    found = await session.scalars(started.union(listed))
    return sorted(p for p in found if p)


# --------------------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the (occurred_at, id) of its last event."""

    occurred_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{iso_utc(self.occurred_at)}~{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """A cursor as ``str()`` wrote it; ValueError with a reason otherwise."""
        at, sep, ident = text.partition("~")
        try:
            if not sep:
                raise ValueError
            return cls(parse_iso_utc(at), int(ident))
        except ValueError:
            raise ValueError(f"{text!r} 不是翻页标记（请使用上一次查询给出的 next 值）") from None


@dataclass(frozen=True, slots=True)
class Page:
    events: list[AuditEvent]
    next: Cursor | None  # None on the last page


@dataclass(frozen=True, slots=True)
class Search:
    """Every filter given must hold; none given lists the whole log."""

    person: str | None = None
    actor: str | None = None
    unit: str | None = None
    stage: str | None = None
    kind: str | None = None
    date_from: date | None = None  # from the start of this day
    date_to: date | None = None  # to the end of this day


async def search(
    session: AsyncSession, filters: Search, *, page_size: int = 50, after: Cursor | None = None
) -> Page:
    """One page of the events matching ``filters``, oldest first, after ``after``."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValueError(f"日期范围为空：起始日 {filters.date_from} 晚于截止日 {filters.date_to}")
    arguments: list[Any] = []

    def given(value: Any) -> str:
        arguments.append(value)
        return f"${len(arguments)}"

    where = []
    if filters.person is not None:
        where.append(f"person_ids @> ARRAY[{given(filters.person)}]::text[]")
    if filters.actor is not None:
        where.append(f"actor_name = {given(filters.actor)}")
    if filters.unit is not None:
        where.append(f"case_id IN (SELECT case_id FROM cases WHERE unit = {given(filters.unit)})")
    if filters.stage is not None:
        where.append(f"stage = {given(filters.stage)}")
    if filters.kind is not None:
        where.append(f"kind = {given(filters.kind)}")
    if filters.date_from is not None:
        where.append(f"occurred_at >= {given(start_of_day(filters.date_from))}")
    if filters.date_to is not None:
        where.append(f"occurred_at < {given(start_of_day(filters.date_to + timedelta(days=1)))}")
    if after is not None:
        where.append(f"(occurred_at, id) > ({given(after.occurred_at)}, {given(after.id)})")
    query = (
        f"SELECT {_EVENT_COLUMNS} FROM case_events"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY occurred_at, id LIMIT {given(page_size + 1)}"
    )
    events = [AuditEvent.of_row(row) for row in await rows(session, query, *arguments)]
    if len(events) <= page_size:
        return Page(events, None)
    last = events[page_size - 1]
    return Page(events[:page_size], Cursor(last.occurred_at, last.id))


# --------------------------------------------------------------------------- standing


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a case stood after some of its events, derived from those events alone."""

    stage: str
    status: str
    outcome_reason: str
    unit: str
    post: str
    method: str
    policy_version: str
    last_deadline: AuditEvent | None  # the newest deadline set by then


def standing(events: Sequence[AuditEvent]) -> Standing | None:
    """The stage and status the last opened/transition/closed event left, and what the case
    was (from its "opened" event); None before the case was opened."""
    ordered = sorted(events, key=lambda e: e.seq)
    if not ordered:
        return None
    stage, status, reason = ordered[0].stage, "active", ""
    opened: dict[str, Any] = {}
    last_deadline = None
    for e in ordered:
        if e.kind == "opened":
            stage, opened = e.stage, e.payload
        elif e.kind == "transition":
            stage = str(e.payload.get("to", e.stage))
        elif e.kind == "closed":
            stage, status = "closed", str(e.payload.get("status", "closed"))
            reason = str(e.payload.get("reason", ""))
        elif e.kind == "deadline":
            last_deadline = e
    case = opened.get("case")
    if not isinstance(case, dict):
        case = {}
    return Standing(
        stage=stage,
        status=status,
        outcome_reason=reason,
        unit=str(case.get("unit", "")),
        post=str(case.get("post", "")),
        method=str(case.get("method", "")),
        policy_version=str(opened.get("policy_version", "")),
        last_deadline=last_deadline,
    )


@dataclass(frozen=True, slots=True)
class AsOf:
    case_id: str
    on: date
    until: datetime  # the events that happened before this instant (the end of ``on``)
    standing: Standing | None  # None: the case had not been opened yet
    events: list[AuditEvent]
    # the day each event happened (``audit.act_dates``), by seq; its ``occurred_at`` is
    # when it was typed in
    acted_on: dict[int, date] = field(default_factory=dict)


async def as_of(session: AsyncSession, case_id: str, on: date) -> AsOf:
    """What a case looked like at the end of ``on``: the events that happened by then, by
    the days the case's own records give them (``audit.act_dates``), not the moments they
    were typed in, and where they left it."""
    until = start_of_day(on + timedelta(days=1))
    everything = await timeline(session, case_id)
    days = dict(zip((e.seq for e in everything), act_days(everything), strict=True))
    events = [e for e in everything if days[e.seq] <= on]
    acted_on = {e.seq: days[e.seq] for e in events}
    return AsOf(case_id, on, until, standing(events), events, acted_on)
