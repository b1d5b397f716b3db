"""The service's log lines: how they look, what each carries, and what none may carry.

``configure_logging(level)`` is called once by each process that runs the service (worker,
web, serve). Lines go to stderr: one JSON object a line when stderr is not a terminal (for a
log collector), a readable line on a terminal. Each line carries what its context knows: the
workflow id and run id in workflow and activity code (from temporalio's ``workflow.logger``
and ``activity.logger``, or, for a module's own logger, from the running activity), the
request id in the web service (``REQUEST_ID``, set by ``api.request_log``).

Business refusals (a rule of the regulation or the policy, a role the step is not for, a
calendar year not yet published) are expected: they are one line, without a traceback, and
name the rule's code, never its sentence (which may name a person). Credentials that slip
into a message (``Authorization:`` values, bearer tokens, cookies, passwords) are masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

# the web request being served, for every line logged while it is
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# ApplicationError types that are a refusal the service expects, not a fault
REFUSALS = frozenset({"RuleViolation", "NotPermitted", "CalendarYearMissing"})

_SECRET = re.compile(
    r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie|password|passwd|token|secret)"
    r"(\"?\s*[:=]\s*\"?)(bearer\s+|basic\s+)?[^\s,;\"']+"
)
# a token is long (the service's are 43 characters); "bearer tokens" in a sentence is not one
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{12,}")
_HANDLER_NAME = "appointments"
# The SDK's worker internals print whole activations and completions at DEBUG, payloads
# (people's data) included: never below INFO, whatever LOG_LEVEL says.
_NEVER_DEBUG = ("temporalio.worker", "temporalio.bridge")


def masked(text: str) -> str:
    """``text`` with the values of credentials replaced by ``***``."""
    return _BEARER.sub(r"\1 ***", _SECRET.sub(r"\1\2***", text))


def refusal_type(error: BaseException | None) -> str | None:
    """The type of a business refusal (``REFUSALS``), whatever wraps it; None for others."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ApplicationError) and error.type in REFUSALS:
            return error.type
        error, seen = error.__cause__, seen + 1
    return None


def rule_of(error: ApplicationError) -> str:
    """The rule's stable code a refusal carries in its details (a case's refusals do)."""
    details = error.details
    return details[0] if details and isinstance(details[0], str) else ""


class Context(logging.Filter):
    """Puts what the record's context knows on it as attributes: ``workflow_id``,
    ``run_id``, ``workflow_type``, ``activity_type``, ``request_id``; and turns a business
    refusal's traceback into its type (``refusal``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields: dict[str, Any] = {}
        in_workflow = getattr(record, "temporal_workflow", None)
        in_activity = getattr(record, "temporal_activity", None)
        if isinstance(in_workflow, Mapping):
            fields |= {
                "workflow_id": in_workflow.get("workflow_id"),
                "run_id": in_workflow.get("run_id"),
                "workflow_type": in_workflow.get("workflow_type"),
            }
        elif isinstance(in_activity, Mapping):
            fields |= _activity_fields(in_activity)
        elif activity.in_activity():
            info = activity.info()
            fields |= _activity_fields(
                {
                    "workflow_id": info.workflow_id,
                    "workflow_run_id": info.workflow_run_id,
                    "workflow_type": info.workflow_type,
                    "activity_type": info.activity_type,
                }
            )
        request_id = REQUEST_ID.get()
        if request_id is not None:
            fields["request_id"] = request_id
        for name, value in fields.items():
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        if record.exc_info and record.exc_info[1] is not None:
            kind = refusal_type(record.exc_info[1])
            if kind is not None:  # expected: the type says it, a traceback would not help
                record.refusal = kind
                record.exc_info = None
                record.exc_text = None
        return True


def _activity_fields(details: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "workflow_id": details.get("workflow_id"),
        "run_id": details.get("workflow_run_id"),
        "workflow_type": details.get("workflow_type"),
        "activity_type": details.get("activity_type"),
    }


# the attributes ``Context`` and the code's ``extra=`` put on a record that a line shows
FIELDS = (
    "request_id",
    "workflow_id",
    "run_id",
    "workflow_type",
    "activity_type",
    "refusal",
    "rule",
    "update",
    "method",
    "path",
    "status",
    "duration_ms",
)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context's fields, and the
    traceback of an unexpected error as ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": masked(record.getMessage()),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = masked(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class Readable(logging.Formatter):
    """``time LEVEL logger: message  key=value ...`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"
        tail = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        text = masked(f"{text}  {tail}" if tail else text)
        if record.exc_info:
            text += "\n" + masked(self.formatException(record.exc_info))
        return text


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every logger's lines at ``level`` and above to ``stream`` (stderr); called
    again, it replaces its own handler rather than adding a second."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    is_terminal = getattr(stream, "isatty", lambda: False)()
    handler.setFormatter(Readable() if is_terminal else JsonLines())
    handler.addFilter(Context())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _NEVER_DEBUG:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    # the workflow's and activity's ids are fields of the line, not a dict in its message
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    return handler


class RefusalLog(Interceptor):
    """Worker interceptor: a refused step is one INFO line through ``workflow.logger``
    (which gives it the workflow id and run id), naming the update and the rule's code.
    Temporal itself logs it only at DEBUG, with a traceback."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _RefusalLogInbound


class _RefusalLogInbound(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        try:
            super().handle_update_validator(input)
        except ApplicationError as e:
            _log_refusal(input.update, e)
            raise

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        try:
            return await super().handle_update_handler(input)
        except ApplicationError as e:
            _log_refusal(input.update, e)
            raise

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        try:
            return await super().execute_workflow(input)
        except ApplicationError as e:
            _log_refusal("run", e)
            raise


def _log_refusal(update: str, error: ApplicationError) -> None:
    kind = refusal_type(error)
    if kind is None:
        return
    rule = rule_of(error)
    workflow.logger.info(
        "step %s refused: %s%s",
        update,
        kind,
        f" ({rule})" if rule else "",
        extra={"refusal": kind, "rule": rule, "update": update},
    )
