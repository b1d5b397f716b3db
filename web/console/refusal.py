"""A refusal of the service as a console page tells it: the gateway's domain errors and the
API's answers (``api.temporal``: 403 a role not permitted, 404 none such, 409 a rule, 503
Temporal silent) become ``PageRefused`` with the same status and sentence."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from api.errors import ApiError
from api.temporal import api_error
from gateway.errors import GatewayError
from web.console.auth import PageRefused

T = TypeVar("T")


def page_refused(error: GatewayError | ApiError) -> PageRefused:
    answer = api_error(error) if isinstance(error, GatewayError) else error
    return PageRefused(answer.status, answer.detail)


async def shown(call: Awaitable[T]) -> T:
    """What ``call`` returns for a page; its refusal as the page's."""
    try:
        return await call
    except (GatewayError, ApiError) as exc:
        raise page_refused(exc) from exc
