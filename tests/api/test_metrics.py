"""``/metrics`` on the real database: the gauges count what the real recording, mail and
checkpoint code wrote, the HTTP counts name route templates, the audit checks run through the
API and the command line show their outcome, and METRICS_TOKEN closes the endpoint."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.audit_checkpoint import sign_checkpoint
from activities.mail import MailActivities, MailConfig
from api.app import create_app
from settings import load_settings
from starter.cli import cli
from starter.temporal_binaries import find_test_server
from tests.api.conftest import NoTemporal, client_for, make_account
from tests.audit.conftest import Keys, record_all, story, tamper
from tests.probation.conftest import DEFAULT_POLICY, free_port
from workflows.probation_types import MailRequest
from workflows.types import CaseStage, CaseStatus, RecordEventInput, Role

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of the exposition, by name and labels (parsed as Prometheus would)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def then(last: RecordEventInput, kind: str, **case: Any) -> RecordEventInput:
    """The event after ``last``, as the workflow would record it."""
    return last.model_copy(
        update={
            "seq": last.seq + 1,
            "kind": kind,
            "summary": f"{kind} (test)",
            "payload": {},
            "occurred_at": last.occurred_at + timedelta(hours=1),
            "notification": None,
            "case": last.case.model_copy(update=case),
        }
    )


def continued(events: list[RecordEventInput], *kinds: str) -> list[RecordEventInput]:
    for kind in kinds:
        events = [*events, then(events[-1], kind)]
    return events


async def fill(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Cases through the real recording activity: four active at the vote (one plain, one
    blocked on the calendar, one whose block ended with a deadline and is now overdue, one
    blocked with an input recorded since) and one appointed."""
    await record_all(sessions, story("M-plain"))
    await record_all(sessions, continued(story("M-blocked"), "blocked"))
    unblocked = continued(story("M-unblocked"), "blocked", "input", "deadline")
    await record_all(sessions, [*unblocked, then(unblocked[-1], "overdue", overdue=True)])
    await record_all(sessions, continued(story("M-blocked-input"), "blocked", "input"))
    closed = story("M-closed")
    await record_all(
        sessions,
        [*closed, then(closed[-1], "closed", stage=CaseStage.CLOSED, status=CaseStatus.APPOINTED)],
    )


def mail(source: str, subject: str = "试用期提醒：张三试用期将于 2027-11-25 届满") -> MailRequest:
    return MailRequest(
        source=source,
        seq=1,
        roles=[Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD],
        subject=subject,
        body="张三同志的试用期将于 2027-11-25 届满。",
    )


async def fill_outbox(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Two rows pending (the SMTP server unreachable), two failed for good (a header that
    cannot be written), two never to be sent (no SMTP server): through the real activity."""
    env = ActivityEnvironment()
    down = MailConfig(host="127.0.0.1", port=free_port(), timeout=2.0)
    with pytest.raises(ApplicationError):
        await env.run(MailActivities(sessions, DEFAULT_POLICY, down).send_mail, mail("M-down"))
    with pytest.raises(ApplicationError):
        await env.run(
            MailActivities(sessions, DEFAULT_POLICY, down).send_mail,
            mail("M-broken", "试用期提前结束：张\r\nBcc: x@y.z 三"),
        )
    outbox_only = MailActivities(sessions, DEFAULT_POLICY, MailConfig(host=None))
    await env.run(outbox_only.send_mail, mail("M-outbox-only"))


@pytest.fixture
async def metered(
    log_sessions: async_sessionmaker[AsyncSession], keys: Keys, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, async_sessionmaker[AsyncSession]]]:
    """The API without Temporal on a database of the test's own, a data folder of its own."""
    settings = load_settings(
        {"AUDIT_SIGNING_KEY": str(keys.private_path), "DATA_DIR": str(tmp_path)}
    )
    app = create_app(settings, NoTemporal(), log_sessions)  # type: ignore[arg-type]
    async with client_for(app) as http:
        yield http, log_sessions


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    answer = await http.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(answer.text)


def stage(name: str, value: CaseStage) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (name, (("stage", value.value),))


async def test_the_gauges_count_what_the_service_recorded(
    metered: tuple[httpx.AsyncClient, async_sessionmaker[AsyncSession]], keys: Keys
) -> None:
    http, sessions = metered
    empty = await scrape(http)
    assert empty[("appointments_gauges_up", ())] == 1
    assert empty[stage("appointments_cases_active", CaseStage.VOTE)] == 0
    assert ("appointments_audit_checkpoint_age_seconds", ()) not in empty  # none yet
    assert not [k for k in empty if k[0].startswith("appointments_audit_check_")]

    await fill(sessions)
    await fill_outbox(sessions)
    async with sessions() as session:
        await sign_checkpoint(session, load_settings({"AUDIT_SIGNING_KEY": str(keys.private_path)}))

    got = await scrape(http)
    assert got[stage("appointments_cases_active", CaseStage.VOTE)] == 4
    assert got[stage("appointments_cases_overdue", CaseStage.VOTE)] == 1
    for other in CaseStage:
        if other not in (CaseStage.VOTE, CaseStage.CLOSED):
            assert got[stage("appointments_cases_active", other)] == 0
            assert got[stage("appointments_cases_overdue", other)] == 0
    assert stage("appointments_cases_active", CaseStage.CLOSED) not in got
    assert got[("appointments_cases_blocked_on_calendar", ())] == 2
    assert got[("appointments_probations_blocked_on_calendar", ())] == 0
    assert got[("appointments_outbox_mail", (("status", "pending"),))] == 2
    assert got[("appointments_outbox_mail", (("status", "failed"),))] == 2
    assert ("appointments_outbox_mail", (("status", "not_sent"),)) not in got
    assert 0 <= got[("appointments_audit_checkpoint_age_seconds", ())] < 60


async def test_a_whole_log_verification_shows_its_outcome(
    metered: tuple[httpx.AsyncClient, async_sessionmaker[AsyncSession]], keys: Keys, log_url: str
) -> None:
    http, sessions = metered
    await fill(sessions)
    async with sessions() as session:
        await sign_checkpoint(session, load_settings({"AUDIT_SIGNING_KEY": str(keys.private_path)}))
    auditor = await make_account(sessions, Role.AUDITOR)

    one_case = await http.get("/audit/verify?case=M-plain", headers=auditor.headers)
    assert one_case.status_code == 200 and one_case.json()["ok"] is True
    before = await scrape(http)
    assert ("appointments_audit_check_ok", (("check", "verify"),)) not in before  # one case

    whole = await http.get("/audit/verify", headers=auditor.headers)
    assert whole.status_code == 200 and whole.json()["ok"] is True
    got = await scrape(http)
    assert got[("appointments_audit_check_ok", (("check", "verify"),))] == 1
    assert got[("appointments_audit_check_faults", (("check", "verify"),))] == 0
    finished = got[("appointments_audit_check_timestamp_seconds", (("check", "verify"),))]
    assert abs(finished - time.time()) < 60  # a Unix time
    assert ("appointments_audit_check_ok", (("check", "reconcile"),)) not in got

    # an event edited behind the service's back: the next whole verification finds it
    await tamper(log_url, "UPDATE case_events SET summary = 'forged' WHERE case_id = 'M-plain'")
    failed = await http.get("/audit/verify", headers=auditor.headers)
    assert failed.status_code == 200 and failed.json()["ok"] is False
    got = await scrape(http)
    assert got[("appointments_audit_check_ok", (("check", "verify"),))] == 0
    assert got[("appointments_audit_check_faults", (("check", "verify"),))] >= 1


async def test_http_requests_are_counted_by_route_template_never_by_path(
    metered: tuple[httpx.AsyncClient, async_sessionmaker[AsyncSession]],
) -> None:
    http, _ = metered
    case_id = f"SECRET-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        answer = await http.get(f"/cases/{case_id}")  # no token: refused
        assert answer.status_code == 401
    assert (await http.get(f"/no/such/{case_id}")).status_code == 404
    text = (await http.get("/metrics")).text
    got = samples(text)
    template = (("method", "GET"), ("route", "/cases/{case_id}"))
    assert got[("appointments_http_requests_total", (*template, ("status", "401")))] == 3
    assert got[("appointments_http_request_duration_seconds_count", template)] == 3
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert got[("appointments_http_requests_total", unmatched)] == 1
    assert case_id not in text
    # nothing that names a case or a person: only these label names appear
    labels = {name for (_, pairs) in got for name, _ in pairs}
    assert labels <= {"route", "method", "status", "stage", "check", "le"}


async def test_metrics_token_closes_the_endpoint(
    log_sessions: async_sessionmaker[AsyncSession],
) -> None:
    token = uuid.uuid4().hex
    app = create_app(load_settings({"METRICS_TOKEN": token}), NoTemporal(), log_sessions)  # type: ignore[arg-type]
    async with client_for(app) as http:
        bare = await http.get("/metrics")
        assert bare.status_code == 401
        assert "Authorization: Bearer" in bare.json()["detail"]
        assert bare.headers["www-authenticate"] == "Bearer"
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "appointments_" not in wrong.text
        got = await scrape(http, Authorization=f"Bearer {token}")
        assert got[("appointments_gauges_up", ())] == 1


@pytest.fixture
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_test_server())
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_a_reconciliation_on_the_command_line_shows_its_outcome(
    metered: tuple[httpx.AsyncClient, async_sessionmaker[AsyncSession]],
    log_url: str,
    time_skipping: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    http, sessions = metered
    await fill(sessions)
    environment = {
        "DATABASE_URL": log_url,
        "TEMPORAL_ADDRESS": time_skipping.client.service_client.config.target_host,
        "DATA_DIR": str(tmp_path),  # the web service's data folder
    }
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["audit", "reconcile"], env=environment
    )
    assert result.exit_code == 0, result.output
    got = await scrape(http)
    assert got[("appointments_audit_check_ok", (("check", "reconcile"),))] == 1
    assert got[("appointments_audit_check_faults", (("check", "reconcile"),))] == 0
