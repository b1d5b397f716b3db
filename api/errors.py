"""How failures become HTTP answers: every one a ``Problem`` with a status, never a 500.

- 401 no usable token; 403 the role may not do this; 404 no such case;
- 409 a rule refused the step (``detail`` is the rule's sentence in Chinese, ``code`` the
  rule's stable code, ``rule`` its source in Chinese), or the case already exists or has
  ended;
- 422 the request is malformed (nothing was sent to the case);
- 503 Temporal, a worker or the database cannot be reached; the request may be repeated.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from temporalio.service import RPCError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than success, with its status and ``Problem`` fields."""

    def __init__(
        self,
        status: int,
        detail: str,
        rule: str = "",
        headers: dict[str, str] | None = None,
        code: str = "",
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.rule = rule
        self.headers = headers
        self.code = code


def problem(
    status: int,
    detail: str,
    rule: str = "",
    headers: dict[str, str] | None = None,
    code: str = "",
) -> JSONResponse:
    body: dict[str, str] = {"detail": detail}
    if rule or code or status == 409:
        body["code"] = code
        body["rule"] = rule
    return JSONResponse(status_code=status, content=body, headers=headers)


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        if exc.code:  # the request's log line names the rule that refused (api.request_log)
            request.state.rule = exc.code
        return problem(exc.status, exc.detail, exc.rule, exc.headers, exc.code)

    async def rpc_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RPCError)
        log.warning("Temporal RPC failed: %s", exc)
        return problem(503, f"Temporal cannot be reached or did not answer: {exc.message}")

    async def database_error(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database failed: %s", exc)
        return problem(503, "the application database cannot be reached; try again later")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RPCError, rpc_error)
    for kind in (DBAPIError, OSError):
        app.add_exception_handler(kind, database_error)
