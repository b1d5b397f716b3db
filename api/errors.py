"""How failures become HTTP answers: every one a ``Problem`` with a status, never a 500.

- 401 no usable token; 403 the role may not do this; 404 no such case;
- 409 a rule refused the step (``detail`` is the rule's sentence in Chinese, ``code`` the
  rule's stable code, ``rule`` its source in Chinese), or the case already exists or has
  ended;
- 422 the request is malformed (nothing was sent to the case);
- 503 Temporal, a worker or the database cannot be reached; the request may be repeated.

Every ``Problem`` carries a ``code``, a stable English identifier a program may rely on: the
rule's code for a refusal by a rule (``vote.quorum``), else the kind of failure
(``no_token``, ``role_not_permitted``, ...; by default the status's, ``DEFAULT_CODES``). The
``detail`` is for people and in Chinese; so is a 422's every field-level ``msg``
(``malformed``, worded by ``workflows.field_errors``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from temporalio.service import RPCError

from gateway.errors import TEMPORAL_UNREACHABLE
from workflows import field_errors

log = logging.getLogger(__name__)

# The code of a failure that names none of its own, by status.
DEFAULT_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "refused",
    413: "too_large",
    422: "malformed",
    429: "too_many_requests",
    503: "unavailable",
}


def default_code(status: int) -> str:
    return DEFAULT_CODES.get(status, f"http_{status}")


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
        self.code = code or default_code(status)


MALFORMED = "请求格式不对，未作任何处理"
# What an answer of the framework's own (no such route, a method it does not take) says.
_HTTP_DETAILS: dict[int, str] = {
    404: "没有这个地址",
    405: "这个地址不接受这种请求方法",
    406: "无法按请求的格式作答",
    415: "请求内容的类型不对，应为 JSON",
}


def malformed(errors: Iterable[Mapping[str, Any]]) -> JSONResponse:
    """The 422 of a request that does not fit its model: each field's path, its message in
    Chinese (``workflows.field_errors``) and pydantic's type. Never the input: echoing it back
    could repeat a secret."""
    problems = [
        {
            "loc": list(e.get("loc", ())),
            "msg": field_errors.message(e),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    body = {"detail": MALFORMED, "code": "malformed", "rule": "", "problems": problems}
    return JSONResponse(status_code=422, content=body)


def unreadable(reason: str) -> JSONResponse:
    """The 422 of a body that is not even JSON."""
    return problem(422, f"{MALFORMED}：请求内容无法读取（{reason}）", code="malformed")


def http_problem(
    status: int, said: str = "", headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An answer of the framework's own, as a ``Problem`` in Chinese (what it ``said`` when
    that is Chinese already, else its sentence for the status)."""
    detail = said if said and not said.isascii() else ""
    detail = detail or _HTTP_DETAILS.get(status, f"请求未能办理（HTTP {status}）")
    return problem(status, detail, headers=dict(headers) if headers else None)


def unavailable(why: str) -> ApiError:
    """The 503 of a state that could not be read, ``why`` as the gateway said it."""
    silent = why.startswith(TEMPORAL_UNREACHABLE)
    return ApiError(503, why, code="temporal_unreachable" if silent else "no_worker")


def no_case(case_id: str) -> ApiError:
    return ApiError(404, f"案件 {case_id} 不存在", code="no_such_case")


def no_history(case_id: str) -> ApiError:
    return ApiError(404, f"案件 {case_id} 没有任何登记记录", code="no_recorded_history")


def problem(
    status: int,
    detail: str,
    rule: str = "",
    headers: dict[str, str] | None = None,
    code: str = "",
) -> JSONResponse:
    body = {"detail": detail, "code": code or default_code(status), "rule": rule}
    return JSONResponse(status_code=status, content=body, headers=headers)


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        if exc.rule:  # the request's log line names the rule that refused (api.request_log)
            request.state.rule = exc.code
        return problem(exc.status, exc.detail, exc.rule, exc.headers, exc.code)

    async def rpc_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RPCError)
        log.warning("Temporal RPC failed: %s", exc)
        return problem(503, f"{TEMPORAL_UNREACHABLE}：{exc.message}", code="temporal_unreachable")

    async def database_error(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database failed: %s", exc)
        return problem(503, "暂时无法连接业务数据库，请稍后再试", code="database_unreachable")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RPCError, rpc_error)
    for kind in (DBAPIError, OSError):
        app.add_exception_handler(kind, database_error)
