"""A sliding-window limit per key (a client address, an account name), kept in memory.

``hit(key)`` counts a use and returns 0, or, when the key has had ``limit`` uses in the last
``seconds``, counts nothing and returns the seconds until one more is allowed; ``wait(key)``
tells the same without counting; ``release(key)`` takes back the latest use (an attempt
counted before it was made, which turned out not to count). The table forgets the least
recently used keys beyond ``max_keys``, so a flood of keys cannot grow it without bound.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SlidingWindow:
    limit: int
    seconds: float
    max_keys: int = 10_000
    clock: Callable[[], float] = time.monotonic
    hits: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        recent = self.hits.pop(key, None) or deque()
        while recent and now - recent[0] >= self.seconds:
            recent.popleft()
        self.hits[key] = recent  # re-inserted: the dict's order is the order of last use
        return recent

    def wait(self, key: str) -> float:
        """Seconds until the key may be used again; 0 if it may now."""
        recent = self._recent(key)
        if len(recent) >= self.limit:
            return self.seconds - (self.clock() - recent[0])
        return 0.0

    def hit(self, key: str) -> float:
        """Counts a use and returns 0, or returns the seconds until one more is allowed."""
        waiting = self.wait(key)
        if waiting:
            return waiting
        self.hits[key].append(self.clock())
        while len(self.hits) > self.max_keys:
            del self.hits[next(iter(self.hits))]
        return 0.0

    def release(self, key: str) -> None:
        """Takes back the latest use of the key, if it has one in the window."""
        recent = self.hits.get(key)
        if recent:
            recent.pop()

    def clear(self) -> None:
        self.hits.clear()
