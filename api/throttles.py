"""How often a client may knock at each door that takes a secret or the public's writing:
the numbers, each decided here once, and the application's counters of the sign-in and
token doors (the board keeps its own counter, ``web.board.state``, with its number from here).

Addresses are the trusted client address (``api.client_address``); account names are
compared as a person would read them (``account_key``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from starlette.applications import Starlette

from api.ratelimit import SlidingWindow


@dataclass(frozen=True)
class Limit:
    times: int
    seconds: float
    keys: int = 10_000  # keys remembered; the least recently used are forgotten first

    @property
    def minutes(self) -> int:
        return int(self.seconds // 60)

    def window(self) -> SlidingWindow:
        return SlidingWindow(self.times, self.seconds, self.keys)


# Objections posted on the public board by one client address.
BOARD_POSTS_PER_ADDRESS = Limit(times=5, seconds=10 * 60)
# Failed console sign-ins from one address, whatever the accounts tried ...
SIGN_IN_FAILURES_PER_ADDRESS = Limit(times=10, seconds=15 * 60)
# ... and for one account name, from whatever addresses: guessing spread over many
# addresses still gets this many tries per half hour.
SIGN_IN_FAILURES_PER_ACCOUNT = Limit(times=10, seconds=30 * 60)
# API requests with a token that is not valid, from one address.
BAD_TOKENS_PER_ADDRESS = Limit(times=20, seconds=15 * 60)


@dataclass
class Throttles:
    sign_in_by_address: SlidingWindow = field(default_factory=SIGN_IN_FAILURES_PER_ADDRESS.window)
    sign_in_by_account: SlidingWindow = field(default_factory=SIGN_IN_FAILURES_PER_ACCOUNT.window)
    bad_tokens_by_address: SlidingWindow = field(default_factory=BAD_TOKENS_PER_ADDRESS.window)


def throttles(app: Starlette) -> Throttles:
    """The sign-in and token counters, one set per application."""
    found: Throttles | None = getattr(app.state, "throttles", None)
    if found is None:
        found = app.state.throttles = Throttles()
    return found


def account_key(name: str) -> str:
    """One key for the ways of writing one name (full-width letters, capitals)."""
    return unicodedata.normalize("NFKC", name).strip().casefold()
