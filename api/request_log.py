"""Every HTTP request of the web service as one log line under a request id.

The id is the caller's ``X-Request-ID`` when it is a plausible one (a proxy's or a load
balancer's, so one id follows the request through them), else a new one; the answer carries
it back in ``X-Request-ID``, and every line logged while the request is served carries it
(``gateway.logs.REQUEST_ID``). The line holds the method, the path, the status and the time
taken; never the query string (the audit search's parameters name people), the headers
(``Authorization``, cookies) or the body; a refusal's line names the rule that refused
(its code, not its sentence, which may name a person). The probes' lines are DEBUG: they
come every few seconds and say nothing new.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import REQUEST_ID

HEADER = "X-Request-ID"
PROBES = ("/healthz", "/readyz", "/metrics")
_PLAUSIBLE = re.compile(r"[A-Za-z0-9._:-]{8,64}")

log = logging.getLogger("api.requests")
# told of each answered request: its scope (the route that answered), status and seconds
Observer = Callable[[Scope, int, float], None]


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _PLAUSIBLE.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class RequestLog:
    """ASGI middleware: the request's id, its log line, and ``observe`` (the metrics) told its
    status and time, once per request."""

    def __init__(self, app: ASGIApp, observe: Observer | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        status = 500  # unless an answer starts
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        # shared by every copy of the scope below: an error handler puts the rule that
        # refused the request in it (``api.errors``)
        state = scope.setdefault("state", {})
        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, answer)
        finally:
            seconds = time.perf_counter() - started
            if self.observe is not None:
                self.observe(scope, status, seconds)
            path = str(scope.get("path", ""))
            log.log(
                logging.DEBUG if path in PROBES else logging.INFO,
                "%s %s %s",
                scope.get("method", ""),
                path,
                status,
                extra={
                    "method": scope.get("method", ""),
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    **({"rule": state["rule"]} if "rule" in state else {}),
                },
            )
            REQUEST_ID.reset(token)
