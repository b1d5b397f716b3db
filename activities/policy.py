"""Reads the local policy file: ``read_policy`` is the one loader every part of the service
uses (the activities, the console, the command line); the case workflow keeps the snapshot
its activity returns."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.policy import PolicyError, PolicySnapshot, parse_policy
from workflows.types import PolicyRequest


def read_policy(path: Path) -> PolicySnapshot:
    """The policy file at ``path``, validated; ``PolicyError`` (every reason, one sentence
    each) when it cannot be read or is refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PolicyError([f"the policy file {path} cannot be read: {e.strerror or e}"]) from e
    return _parsed(text, str(path)).model_copy(deep=True)


# Parsed once per text: a worker reads the file at every case's start, and the YAML alone is
# most of 30 ms of CPU, a tenth of a case's (bench/RESULTS.md); a changed file is a new text.
# Each caller gets a copy of its own.
_parsed = lru_cache(maxsize=4)(parse_policy)


class PolicyActivities:
    def __init__(self, policy_path: Path) -> None:
        self._policy_path = policy_path

    @activity.defn
    async def load_policy(self, input: PolicyRequest) -> PolicySnapshot:
        """The policy as the file says now, validated; refused for good if it is invalid.

        Non-retryable: a broken or missing file does not heal by retrying, and the case
        must say why it cannot start instead of hanging in retries.
        """
        return await policy_for_activity(self._policy_path)


async def policy_for_activity(path: Path) -> PolicySnapshot:
    """``read_policy`` off the event loop, for an activity: a refused file fails the activity
    for good (``PolicyInvalid``), with every reason."""
    try:
        return await asyncio.to_thread(read_policy, path)
    except PolicyError as e:
        raise ApplicationError(
            f"the policy file {path} is refused:\n{e}",
            e.problems,
            type="PolicyInvalid",
            non_retryable=True,
        ) from e
