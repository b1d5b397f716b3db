"""The day each event of a case happened (办理日期), as the case's own records date it, not
the moment it was typed in.

A case brought in with past dates is typed in weeks after its acts; its events' instants
(``occurred_at``) are the typing-in times, while the acts carry their own dates in the
payload. An event's day is, in this order:

1. a person's act: the date it records. The opening: the case's ``opened_on`` (without one,
   the day it was recorded, as the workflow opens it); an input: the latest ``*_on`` date
   of the form, at its top level or in a part of it (a vote's ``meeting.held_on``), never in
   its lists (the applicants', the candidates' own dates);
2. an event recorded at the same instant as the one before it (the same workflow moment,
   so the same cause: the transition an act brought about): that event's day;
3. what the workflow does in answer to what came before it (an eligibility check, a
   transition, a deadline set, a probation started, a blocked step, the close): the day of
   the event that caused it, the last one before it that is not a reminder, an escalation
   or an overdue mark;
4. a reminder or an escalation: the day it fell due (its ``at``), or the day it was recorded
   if that is earlier; an overdue mark: the day after the deadline it marks, or the day it
   was recorded if that is earlier. These are notes on a step, not causes: no later event
   takes its day from them;
5. anything else (a period that ran out, an input without a date of its own): the day it
   was recorded, but not before the day of its cause (rule 3) and not after the day of the
   next person's act (what was done later had happened by then).

No event's day comes before the case's opening (an act dated earlier is the opening's day).
A case typed in late gets its reminders, escalations and overdue marks at typing-in; their
days say when they would have fallen due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from workflows.rules.working_days import SHANGHAI

DATE_SUFFIX = "_on"
# what the workflow records in answer to the event before it (rule 3)
ANSWERS = frozenset({"eligibility", "transition", "deadline", "probation", "blocked", "closed"})
# notes on a step, which cause nothing (rule 4)
NOTES = frozenset({"reminder", "escalation", "overdue"})


class Dated(Protocol):
    """What an event must have to be dated: its kind, the instant and the payload."""

    @property
    def kind(self) -> str: ...

    @property
    def occurred_at(self) -> datetime: ...

    @property
    def payload(self) -> dict[str, Any]: ...


def _day(value: object) -> date | None:
    if not isinstance(value, str) or len(value) != len("2026-09-01"):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _dates_in(fields: Mapping[str, Any]) -> list[date]:
    found = [d for k, v in fields.items() if k.endswith(DATE_SUFFIX) and (d := _day(v))]
    for value in fields.values():
        if isinstance(value, Mapping):
            found += [d for k, v in value.items() if k.endswith(DATE_SUFFIX) and (d := _day(v))]
    return found


def _moment_day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at.astimezone(SHANGHAI).date() if at.tzinfo else at.date()


def stated_day(event: Dated) -> date | None:
    """The day a person's act records (rule 1), or None for any other event."""
    if event.kind == "opened":
        # without a date of its own a case opens the day it is started (``CaseInput``)
        case = event.payload.get("case")
        opened_on = _day(case.get("opened_on")) if isinstance(case, Mapping) else None
        return opened_on or recorded_day(event)
    if event.kind == "input":
        return max(_dates_in(event.payload), default=None)
    return None


def recorded_day(event: Dated) -> date:
    """The day, in Beijing, the event was recorded."""
    return event.occurred_at.astimezone(SHANGHAI).date()


def act_days(events: Sequence[Dated]) -> list[date]:
    """The day each event happened, in the order given (the order of the case's ``seq``)."""
    stated = [stated_day(e) for e in events]
    # the next person's act after each event: what was done later had happened by then
    next_act: list[date | None] = [None] * len(events)
    upcoming: date | None = None
    for i in range(len(events) - 1, -1, -1):
        next_act[i] = upcoming
        if stated[i] is not None:
            upcoming = stated[i]
    days: list[date] = []
    cause: date | None = None  # the day of the last event that is not a note (rule 3)
    opened_on: date | None = None  # nothing happened in a case before it was opened
    deadline_on: date | None = None
    for i, event in enumerate(events):
        own = stated[i]
        if own is None and i and event.occurred_at == events[i - 1].occurred_at:
            own = days[-1]
        if own is None:
            own = recorded_day(event)
            if event.kind in NOTES:
                due = _moment_day(event.payload.get("at"))
                if event.kind == "overdue" and deadline_on is not None:
                    due = deadline_on + timedelta(days=1)
                own = min(own, due or own)
            elif event.kind in ANSWERS and cause is not None:
                own = cause
            else:
                later = next_act[i]
                if later is not None:
                    own = min(own, later)
                if cause is not None:
                    own = max(own, cause)
        if opened_on is not None:
            own = max(own, opened_on)
        elif event.kind == "opened":
            opened_on = own
        if event.kind == "deadline":
            deadline_on = _day(event.payload.get("deadline_on")) or deadline_on
        if event.kind not in NOTES:
            cause = own
        days.append(own)
    return days
