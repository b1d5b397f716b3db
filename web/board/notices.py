"""A case's public notice as Temporal tells it: the ``public_notice`` query of the case
workflow, and whether the notice is before the public on a given day."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from temporalio.client import Client

from gateway import cases
from gateway.errors import NoWorker, Unreachable
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
    try:
        return await cases.query_public_notice(client, case_id, QUERY_WAIT)
    except Unreachable as exc:
        raise BoardUnavailable(exc.message) from exc
    except NoWorker as exc:
        log.warning("board: %s", exc.message)
        return UNANSWERED
