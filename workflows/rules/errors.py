"""The error every rule raises when a figure or a date breaks the regulation.

A refusal is part of the interface: the clerk reads ``message`` (what is wrong, with the
figures) and an auditor reads ``rule`` (which provision refused it).
"""

from __future__ import annotations

from typing import Any


class RuleViolation(ValueError):
    """A value refused by a national rule or by the local policy.

    ``message`` is a sentence a clerk understands, e.g. "quorum not met: 7 of 11 present,
    at least 8 required"; ``rule`` is its short source, e.g. "条例 quorum: two thirds of
    members".
    """

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule

    def __str__(self) -> str:
        return self.message

    # Exceptions pickle by re-calling __init__ with self.args; ours takes two arguments.
    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.rule))
