"""Probations on Temporal with the real activities, the real PostgreSQL test database, and
a real SMTP server running in this process (aiosmtpd on a free port)."""

from __future__ import annotations

import email
import email.policy
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.calendar import CalendarActivities
from activities.mail import MailConfig
from activities.policy import PolicyActivities
from activities.probation_parts import probation_worker_parts, start_probation
from gateway.sandbox import workflow_runner
from settings import PROJECT_DIR, Settings, load_settings
from starter.temporal_binaries import find_test_server
from store.probation_models import (
    OutboxRow,
    ProbationEventRow,
    ProbationListRow,
    list_probations,
    outbox,
    probation_history,
)
from workflows.probation_types import ProbationInput, ProbationState
from workflows.rules.working_days import SHANGHAI
from workflows.types import Actor, Role

TEST_SUPPLEMENT = PROJECT_DIR / "tests" / "fixtures" / "calendar-test-supplement.yaml"
DEFAULT_POLICY = PROJECT_DIR / "policy" / "default.yaml"

# The addresses of policy/default.yaml
SECTION_CHIEF_MAIL = "ganbuke-kezhang@zzb.example"
HEAD_MAIL = "buzhang@zzb.example"
SECRETARY_MAIL = "changwei-mishu@zzb.example"

HEAD = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)
CLERK = Actor(name="王科员", role=Role.CLERK)


def probation_input(case_id: str, starts_on: date, **extra: Any) -> ProbationInput:
    fields: dict[str, Any] = {
        "case_id": case_id,
        "person_id": "P001",
        "name": "张三",
        "unit": "县发展和改革局",
        "post": "副局长",
        "starts_on": starts_on,
        "former_rank": "正科级",
        "former_post": "县发展和改革局综合股股长",
        **extra,
    }
    return ProbationInput(**fields)


# --------------------------------------------------------------------------- SMTP


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def key(self) -> str:
        return str(self.message["X-Appointments-Key"])

    @property
    def body(self) -> str:
        return str(self.message.get_content())


class Collector:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: Collector

    @property
    def messages(self) -> list[Received]:
        return self.collector.messages

    def config(self) -> MailConfig:
        return MailConfig(host=self.host, port=self.port, sender="zzb-system@zzb.example")

    def about(self, source: str) -> list[Received]:
        return [m for m in self.messages if m.key.startswith(f"{source}#")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.hostname, controller.port, collector)
    finally:
        controller.stop()


# --------------------------------------------------------------------------- Temporal


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test, so no other test's probation holds its clock back."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_test_server()),
        data_converter=pydantic_data_converter,
    )
    try:
        yield env
    finally:
        await env.shutdown()


def probation_settings(
    policy: Path = DEFAULT_POLICY, supplement: Path = TEST_SUPPLEMENT
) -> Settings:
    return load_settings(
        {
            "TASK_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
            "POLICY_FILE": str(policy),
            "CALENDAR_SUPPLEMENT": str(supplement),
        }
    )


def build_probation_worker(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    mail: MailConfig | None,
) -> Worker:
    """The worker's probation parts plus the two activities of the main worker they use."""
    calendar = CalendarActivities(settings.calendar_supplement)
    policy = PolicyActivities(settings.policy_file)
    workflows, activities = probation_worker_parts(
        settings, sessions, mail=mail or MailConfig(host=None)
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=workflows,
        activities=[calendar.schedule_step, policy.load_policy, *activities],
        workflow_runner=workflow_runner(),  # the service's sandbox, as worker.py gives it
    )


@dataclass
class ProbationRunner:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    started: list[WorkflowHandle[Any, ProbationState]] = field(default_factory=list)

    async def now(self) -> datetime:
        return (await self.env.get_current_time()).astimezone(SHANGHAI)

    async def today(self) -> date:
        return (await self.now()).date()

    async def sleep_until(self, moment: datetime) -> None:
        delta = moment - await self.env.get_current_time()
        if delta > timedelta(0):
            await self.env.sleep(delta)

    async def start(self, input: ProbationInput) -> WorkflowHandle[Any, ProbationState]:
        handle = await start_probation(self.env.client, input, self.settings.task_queue)
        self.started.append(handle)
        return handle

    async def terminate_leftovers(self) -> None:
        for handle in self.started:
            try:
                await handle.terminate("test finished")
            except RPCError as e:
                if e.status is not RPCStatusCode.NOT_FOUND:
                    raise

    async def state(self, handle: WorkflowHandle[Any, Any]) -> ProbationState:
        return await handle.query("state", result_type=ProbationState)

    async def update(
        self, handle: WorkflowHandle[Any, Any], name: str, data: Any
    ) -> ProbationState:
        return await handle.execute_update(name, data, result_type=ProbationState)

    async def events(self, probation_id: str) -> list[ProbationEventRow]:
        async with self.sessions() as s:
            return await probation_history(s, probation_id)

    async def row(self, probation_id: str) -> ProbationListRow | None:
        async with self.sessions() as s:
            rows = await list_probations(s, probation_id=probation_id)
        return rows[0] if rows else None

    async def outbox(self, source: str) -> list[OutboxRow]:
        async with self.sessions() as s:
            return await outbox(s, source=source)


@asynccontextmanager
async def probation_runner(
    env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    *,
    mail: MailConfig | None = None,
    policy: Path = DEFAULT_POLICY,
    supplement: Path = TEST_SUPPLEMENT,
) -> AsyncIterator[ProbationRunner]:
    settings = probation_settings(policy, supplement)
    async with build_probation_worker(env.client, settings, sessions, mail):
        runner = ProbationRunner(env, sessions, settings)
        try:
            yield runner
        finally:
            await runner.terminate_leftovers()


@pytest.fixture
async def runner(
    time_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
) -> AsyncIterator[ProbationRunner]:
    async with probation_runner(time_env, session_factory, mail=smtp.config()) as r:
        yield r


@pytest.fixture
def new_id() -> str:
    return f"PB-{uuid.uuid4().hex[:10]}"
