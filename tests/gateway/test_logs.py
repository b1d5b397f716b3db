"""The service's log lines: a refused step is one line with its workflow id and no
traceback; a web request's line carries a request id and no credential or query string;
JSON lines off a terminal, readable lines on one."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity, workflow
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from api.app import create_app
from gateway.logs import configure_logging, masked
from settings import load_settings
from tests.api.conftest import NoTemporal
from tests.workflows.conftest import case_runner, start_time_skipping
from tests.workflows.scenarios import INVESTIGATION_NOTICE, TEAM, regular_case
from workflows.ids import case_workflow_id
from workflows.types import InvestigationNoticeInput

SECRET_TOKEN = "tok-4f9a1c2e8b7d6a5f"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The service's logging as a process configures it, into a string (not a terminal);
    afterwards the root logger and temporalio's adapters as they were."""
    root = logging.getLogger()
    level, on_message = root.level, workflow.logger.workflow_info_on_message
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name in ("temporalio.worker", "temporalio.bridge"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        workflow.logger.workflow_info_on_message = on_message
        activity.logger.activity_info_on_message = on_message


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


async def test_a_refused_step_is_one_line_with_its_workflow_id_and_no_traceback(
    captured: io.StringIO, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    env = await start_time_skipping()
    try:
        async with case_runner(env, session_factory) as runner:
            h = await runner.start(regular_case("log-refusal-1"))
            notice = InvestigationNoticeInput(actor=TEAM, published_on=INVESTIGATION_NOTICE)
            with pytest.raises(WorkflowUpdateFailedError):
                await runner.update(h, "record_investigation_notice", notice)
            run_id = (await h.describe()).run_id
    finally:
        await env.shutdown()
    found = lines(captured)  # every line is JSON: the stream is not a terminal
    refused = [line for line in found if line.get("refusal") == "NotPermitted"]
    assert refused, found
    said = next(line for line in refused if line["logger"].startswith("temporalio.workflow"))
    assert said["level"] == "INFO"
    assert said["workflow_id"] == case_workflow_id("log-refusal-1")
    assert said["run_id"] == run_id
    assert said["update"] == "record_investigation_notice"
    assert all("exception" not in line for line in refused)
    assert "Traceback" not in captured.getvalue()
    assert TEAM.name not in said["message"]  # the refusal's sentence names a person
    # the SDK's DEBUG dumps of activations carry payloads: kept out even at DEBUG
    internals = [line for line in found if line["logger"].startswith("temporalio.worker")]
    assert not [line for line in internals if line["level"] == "DEBUG"]


def test_an_expected_refusal_loses_its_traceback_a_fault_keeps_it(captured: io.StringIO) -> None:
    log = logging.getLogger("temporalio.activity")
    for error in (
        ApplicationError("2027 年日历未发布", {"year": 2027}, type="CalendarYearMissing"),
        ValueError("a fault"),
    ):
        try:
            raise error
        except Exception:
            log.warning("Completing activity as failed", exc_info=True)
    refused, fault = lines(captured)
    assert refused["refusal"] == "CalendarYearMissing" and "exception" not in refused
    assert refused["message"] == "Completing activity as failed"
    assert "Traceback" in fault["exception"] and "refusal" not in fault


async def test_an_activity_line_carries_its_workflow_id_whichever_logger_wrote_it(
    captured: io.StringIO,
) -> None:
    def work() -> None:
        logging.getLogger("activities.example").info("a line of a module's own logger")
        activity.logger.info("a line of temporalio's activity logger")

    environment = ActivityEnvironment()
    environment.run(work)
    found = lines(captured)
    assert len(found) == 2, found
    for line in found:
        assert line["workflow_id"] == environment.info.workflow_id
        assert line["run_id"] == environment.info.workflow_run_id
        assert "{" not in line["message"]  # the ids are fields, not a dict in the message


async def test_a_request_line_carries_a_request_id_and_no_credential(
    captured: io.StringIO, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    app = create_app(load_settings({}), NoTemporal(), session_factory)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        made = await http.get(
            "/audit/events?person=张三",
            headers={"Authorization": f"Bearer {SECRET_TOKEN}", "Cookie": "console_session=c1"},
        )
        given = await http.get(
            "/audit/events", headers={"X-Request-ID": "lb-7f3e9a21", "Authorization": "x"}
        )
        odd = await http.get("/audit/events", headers={"X-Request-ID": "bad id; drop"})
    assert made.status_code == 401
    assert given.headers["X-Request-ID"] == "lb-7f3e9a21"  # a proxy's id, kept
    assert len(made.headers["X-Request-ID"]) == 32
    assert odd.headers["X-Request-ID"] != "bad id; drop"  # not a plausible id: a new one
    requests = [line for line in lines(captured) if line["logger"] == "api.requests"]
    assert [line["request_id"] for line in requests] == [
        made.headers["X-Request-ID"],
        "lb-7f3e9a21",
        odd.headers["X-Request-ID"],
    ]
    first = requests[0]
    assert (first["method"], first["path"], first["status"]) == ("GET", "/audit/events", 401)
    # every line of the service (the test's own HTTP client logs its URLs: not the service's)
    text = "\n".join(json.dumps(line) for line in lines(captured) if line["logger"] != "httpx")
    for secret in (SECRET_TOKEN, "console_session", "person=", "张三", "Bearer"):
        assert secret not in text, secret


def test_lines_are_json_off_a_terminal_and_readable_on_one() -> None:
    root = logging.getLogger()
    level = root.level
    try:
        for stream, is_json in ((io.StringIO(), True), (Terminal(), False)):
            handler = configure_logging("INFO", stream)
            log = logging.getLogger("tests.logs")
            log.debug("below the level")
            log.info("hello %s", "there", extra={"rule": "vote.quorum"})
            root.removeHandler(handler)
            text = stream.getvalue()
            assert text.count("\n") == 1 and "below the level" not in text
            if is_json:
                line = json.loads(text)
                assert line["message"] == "hello there" and line["rule"] == "vote.quorum"
                assert line["level"] == "INFO" and line["logger"] == "tests.logs"
            else:
                assert "INFO tests.logs: hello there  rule=vote.quorum" in text
                with pytest.raises(json.JSONDecodeError):
                    json.loads(text)
    finally:
        root.setLevel(level)
        workflow.logger.workflow_info_on_message = True
        activity.logger.activity_info_on_message = True


def test_configured_twice_there_is_still_one_handler() -> None:
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    try:
        configure_logging("INFO", io.StringIO())
        handler = configure_logging("WARNING", io.StringIO())
        assert [h for h in root.handlers if h not in before] == [handler]
        assert root.level == logging.WARNING
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_credentials_in_a_message_are_masked() -> None:
    assert masked(f"Authorization: Bearer {SECRET_TOKEN}") == "Authorization: ***"
    assert masked(f"sent bearer {SECRET_TOKEN} twice") == "sent bearer *** twice"
    assert masked("bearer tokens are never logged") == "bearer tokens are never logged"
    assert masked("password=hunter22 cookie: s=1") == "password=*** cookie: ***"
    assert masked("tokens: 3 issued") == "tokens: 3 issued"
