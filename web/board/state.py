"""What the board keeps per application: its notice cache, the rate limiter of objection
posts (keyed on ``api.client_address``), and the clock of its days."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from starlette.applications import Starlette

from api.ratelimit import SlidingWindow
from api.throttles import BOARD_POSTS_PER_ADDRESS
from web.board.cache import NoticeCache
from web.templating import beijing_today


@dataclass
class BoardState:
    cache: NoticeCache = field(default_factory=NoticeCache)
    limiter: SlidingWindow = field(default_factory=BOARD_POSTS_PER_ADDRESS.window)
    today: Callable[[], date] = beijing_today


def board_state(app: Starlette) -> BoardState:
    """The board's cache and rate limiter, one per application."""
    found: BoardState | None = getattr(app.state, "board", None)
    if found is None:
        found = app.state.board = BoardState()
    return found
