"""How the cadre workflows (capability test, double evaluation) write their history: each
event through the recording activity every case uses (``record_events``), into a hash chain
of the case kind, and each notification through ``send_mail`` with the same (chain, seq).

A chain of the case kind is locked through its ``cases`` listing row. These chains are not
appointment cases, and their listing row says so, as the register's chain does
(``store.register_audit``): its chain kind (``cases.chain``, from the chain's id), which the
appointment listings, gauges, "my tasks" and reports go by and leave out; closed, 已撤回
and its reason naming what the chain records where the other columns need a value. The
auditors' search, ``audit verify``, the signed checkpoints and the dossier cover them as they
cover a case. The event kinds are the workflows' own (``capability_*``, ``evaluation_*``,
``removal_*``).

Workflow code only: deterministic, everything through activities.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any, Protocol

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.activity_refs import RECORD_EVENTS, SEND_MAIL, call
from workflows.glossary import zh
from workflows.ids import chain_kind_of
from workflows.probation_types import MailRequest, MailResult
from workflows.types import (
    Actor,
    CaseRow,
    CaseStage,
    CaseStatus,
    RecordedEvent,
    RecordEventsInput,
    Role,
    SelectionMethod,
)

SYSTEM = Actor(name="系统", role=Role.SYSTEM)

# Technical limits of calls to activities (not regulation values, which come from the policy).
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
MAIL_TIMEOUT = timedelta(seconds=120)
# About an hour of tries; then the message stays "pending" in the outbox with its last error,
# and the workflow goes on (a mail server outage must not stop a retest or a vote).
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=12,
)


def chain_listing(chain_id: str, unit: str, post: str, opened_on: date) -> CaseRow:
    """The listing row of a cadre workflow's chain: never an appointment case (see module)."""
    chain = chain_kind_of(chain_id)
    return CaseRow(
        unit=unit,
        post=post,
        method=SelectionMethod.REGULAR_APPOINTMENT,  # the column's type; the chain says what
        stage=CaseStage.CLOSED,
        status=CaseStatus.WITHDRAWN,
        outcome_reason=f"{zh(chain)}的审计链，不是任用案件",
        opened_on=opened_on,
        chain=chain,
    )


class Recorded(Protocol):
    """The state a recording workflow keeps: its chain and how many events it wrote."""

    chain_id: str
    events_recorded: int


async def record(
    state: Recorded,
    listing: CaseRow,
    kind: str,
    summary: str,
    *,
    actor: Actor = SYSTEM,
    payload: dict[str, Any] | None = None,
    mail: tuple[list[Role], str, str] | None = None,
) -> None:
    """Record one event in the chain and, with it, mail its notification (same key, both
    idempotent: a retried activity writes and mails once)."""
    state.events_recorded += 1
    event = RecordedEvent(
        seq=state.events_recorded,
        kind=kind,
        stage=CaseStage.CLOSED,
        occurred_at=workflow.now(),
        actor_name=actor.name,
        actor_role=actor.role,
        summary=summary,
        payload=payload or {},
    )
    recording = call(
        RECORD_EVENTS,
        RecordEventsInput(case_id=state.chain_id, case=listing, events=[event]),
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
    )
    if mail is None:
        await recording
        return
    roles, subject, body = mail
    request = MailRequest(
        source=state.chain_id, seq=event.seq, roles=roles, subject=subject, body=body
    )
    await asyncio.gather(recording, _mail(request))


async def _mail(request: MailRequest) -> MailResult | None:
    try:
        return await call(
            SEND_MAIL, request, start_to_close_timeout=MAIL_TIMEOUT, retry_policy=MAIL_RETRY
        )
    except ActivityError as e:
        # the outbox keeps the message as pending with its last error
        workflow.logger.warning(
            "mail %s#%s not delivered: %s", request.source, request.seq, e.cause or e
        )
        return None
