"""A case's public notice as Temporal tells it: the ``public_notice`` query of the case
workflow, and whether the notice is before the public on a given day."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.common import QueryRejectCondition
from temporalio.service import RPCError, RPCStatusCode

from workflows.ids import case_workflow_id
from workflows.types import NoticeKind, PublicNoticeView

log = logging.getLogger(__name__)

QUERY_WAIT = timedelta(seconds=5)  # per case; a worker slower than this is "unanswered"


class BoardUnavailable(Exception):
    """Temporal (or the database) cannot be reached, or answered for no case."""


class Unanswered:
    """A case whose query failed while others succeeded: left off the board this time."""


UNANSWERED = Unanswered()


def is_current(view: PublicNoticeView, today: date) -> bool:
    """Whether the notice is before the public today."""
    if view.kind is NoticeKind.INVESTIGATION:
        return view.ends_on is None  # until its inspection concludes
    return view.ends_on is not None and view.published_on <= today <= view.ends_on


async def query_notice(client: Client, case_id: str) -> PublicNoticeView | Unanswered | None:
    """The case's notice; None when it has none or Temporal has no such open case."""
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        view: PublicNoticeView | None = await handle.query(
            "public_notice",
            result_type=PublicNoticeView,
            reject_condition=QueryRejectCondition.NOT_OPEN,
            rpc_timeout=QUERY_WAIT,
        )
        return view
    except WorkflowQueryRejectedError:
        return None  # the workflow has closed: no notice
    except WorkflowQueryFailedError as exc:
        log.warning("board: query public_notice of %s failed: %s", case_id, exc)
        return UNANSWERED
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        if exc.status == RPCStatusCode.UNAVAILABLE:
            raise BoardUnavailable(exc.message) from exc
        log.warning("board: query public_notice of %s: %s", case_id, exc.message)
        return UNANSWERED
    except RuntimeError as exc:
        # a lazily connected client reports a server it cannot reach this way
        if str(exc).startswith("Failed client connect"):
            raise BoardUnavailable(str(exc).splitlines()[0]) from exc
        raise
