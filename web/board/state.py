"""What the board keeps per application: its notice cache, the rate limiter of objection
posts, and the clock of its days."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from starlette.applications import Starlette

from web.board.cache import NoticeCache
from web.board.form import RATE_LIMIT_MAX_ADDRESSES, RATE_LIMIT_POSTS, RATE_LIMIT_WINDOW_SECONDS
from web.ratelimit import SlidingWindow
from web.templating import beijing_today


@dataclass
class BoardState:
    cache: NoticeCache = field(default_factory=NoticeCache)
    limiter: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(
            RATE_LIMIT_POSTS, RATE_LIMIT_WINDOW_SECONDS, RATE_LIMIT_MAX_ADDRESSES
        )
    )
    today: Callable[[], date] = beijing_today


def board_state(app: Starlette) -> BoardState:
    """The board's cache and rate limiter, one per application."""
    found: BoardState | None = getattr(app.state, "board", None)
    if found is None:
        found = app.state.board = BoardState()
    return found
