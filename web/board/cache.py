"""The board's short cache of the published notices, and how it is refreshed.

Public traffic reads the notices from here, so Temporal is asked at most once per case in
``CACHE_SECONDS``; the listing is refreshed from the active cases of the listing table, one
query per case, a few at a time. After Temporal or the database failed, the cache says so
for ``FAILURE_CACHE_SECONDS`` before asking again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from api.deps import Services
from store import queries
from web.board.notices import UNANSWERED, BoardUnavailable, Unanswered, query_notice
from workflows.types import CaseStage, CaseStatus, PublicNoticeView

# Public traffic reads the notices from this cache; Temporal is asked at most once per case
# in this time (a notice changes a few times a month).
CACHE_SECONDS = 30.0
# After Temporal or the database failed, the board says so for this long before asking again.
FAILURE_CACHE_SECONDS = 5.0
CACHE_MAX_CASES = 5_000  # cases whose notice is kept; beyond it, stale entries are dropped
BOARD_STAGES = (CaseStage.INSPECTION, CaseStage.PUBLIC_NOTICE, CaseStage.APPOINTMENT)
LISTING_PAGE = 500  # rows read from the listing table at a time
LISTING_MAX = 5_000  # active cases the board looks at, at the most (a county has ~200 a year)
QUERY_CONCURRENCY = 8  # queries in flight at once while the board is refreshed


@dataclass
class Listing:
    """The notices of the board as read at ``at``; ``partial`` when some case did not
    answer."""

    at: float
    notices: list[PublicNoticeView]
    partial: bool


@dataclass
class NoticeCache:
    """The notices of the board and of single cases, each kept ``CACHE_SECONDS``."""

    clock: Callable[[], float] = time.monotonic
    listing: Listing | None = None
    views: dict[str, tuple[float, PublicNoticeView | None]] = field(default_factory=dict)
    failed_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def clear(self) -> None:
        self.listing, self.failed_at = None, None
        self.views.clear()

    def _fresh(self, at: float) -> bool:
        return self.clock() - at < CACHE_SECONDS

    def _check_not_failed(self) -> None:
        if self.failed_at is not None and self.clock() - self.failed_at < FAILURE_CACHE_SECONDS:
            raise BoardUnavailable("failed a moment ago")

    def _keep(self, case_id: str, view: PublicNoticeView | None, at: float) -> None:
        if len(self.views) >= CACHE_MAX_CASES:
            self.views = {k: v for k, v in self.views.items() if self._fresh(v[0])}
            while len(self.views) >= CACHE_MAX_CASES:
                del self.views[next(iter(self.views))]
        self.views[case_id] = (at, view)

    async def board(self, parts: Services) -> Listing:
        async with self.lock:  # one refresh at a time; the others then read its result
            if self.listing is not None and self._fresh(self.listing.at):
                return self.listing
            self._check_not_failed()
            try:
                self.listing = await self._refresh(parts)
            except BoardUnavailable:
                self.failed_at = self.clock()
                raise
            return self.listing

    async def _refresh(self, parts: Services) -> Listing:
        ids = await _active_case_ids(parts)
        gate = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def one(case_id: str) -> PublicNoticeView | Unanswered | None:
            async with gate:
                return await query_notice(parts.client, case_id)

        at = self.clock()
        # every query runs to its end, so none is left behind when one fails
        answers = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        unanswered = sum(1 for a in answers if a is UNANSWERED)
        if ids and unanswered == len(ids):
            raise BoardUnavailable(f"no answer for any of {len(ids)} cases")
        notices = []
        for case_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, (Unanswered, BaseException)):
                continue
            self._keep(case_id, answer, at)
            if answer is not None:
                notices.append(answer)
        return Listing(at, notices, partial=unanswered > 0)

    async def notice(self, parts: Services, case_id: str) -> PublicNoticeView | None:
        """One case's notice, from the cache or Temporal; None for a case unknown to the
        listing table, so made-up ids in addresses never reach Temporal."""
        kept = self.views.get(case_id)
        if kept is not None and self._fresh(kept[0]):
            return kept[1]
        self._check_not_failed()
        try:
            async with parts.sessions() as s:
                row = await queries.get_case(s, case_id)
        except (DBAPIError, OSError) as exc:
            self.failed_at = self.clock()
            raise BoardUnavailable(f"database: {exc}") from exc
        if row is None or row.status is not CaseStatus.ACTIVE:
            return None
        at = self.clock()
        try:
            answer = await query_notice(parts.client, case_id)
        except BoardUnavailable:
            self.failed_at = self.clock()
            raise
        if isinstance(answer, Unanswered):
            raise BoardUnavailable(f"no answer for case {case_id}")
        self._keep(case_id, answer, at)
        return answer

    def forget(self, case_id: str) -> None:
        self.views.pop(case_id, None)
        self.listing = None


async def _active_case_ids(parts: Services) -> list[str]:
    ids: list[str] = []
    try:
        async with parts.sessions() as s:
            for stage in BOARD_STAGES:
                offset = 0
                while len(ids) < LISTING_MAX:
                    rows = await queries.list_cases(
                        s,
                        stage=stage.value,
                        status=CaseStatus.ACTIVE.value,
                        limit=LISTING_PAGE,
                        offset=offset,
                    )
                    ids += [r.case_id for r in rows]
                    if len(rows) < LISTING_PAGE:
                        break
                    offset += LISTING_PAGE
    except (DBAPIError, OSError) as exc:
        raise BoardUnavailable(f"database: {exc}") from exc
    return ids[:LISTING_MAX]
