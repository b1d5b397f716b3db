"""Reads the local policy file for a case; the workflow keeps the snapshot it returns."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.policy import PolicyError, PolicySnapshot, parse_policy
from workflows.types import PolicyRequest


class PolicyActivities:
    def __init__(self, policy_path: Path) -> None:
        self._policy_path = policy_path

    @activity.defn
    async def load_policy(self, input: PolicyRequest) -> PolicySnapshot:
        """The policy as the file says now, validated; refused for good if it is invalid.

        Non-retryable: a broken or missing file does not heal by retrying, and the case
        must say why it cannot start instead of hanging in retries.
        """
        path = self._policy_path
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except OSError as e:
            raise ApplicationError(
                f"the policy file {path} cannot be read: {e.strerror or e}",
                type="PolicyInvalid",
                non_retryable=True,
            ) from e
        try:
            return parse_policy(text, str(path))
        except PolicyError as e:
            raise ApplicationError(
                f"the policy file {path} is refused:\n{e}",
                e.problems,
                type="PolicyInvalid",
                non_retryable=True,
            ) from e
