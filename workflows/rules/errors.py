"""The error every rule raises when a figure or a date breaks the regulation.

A refusal is part of the interface: the clerk reads ``message`` (what is wrong, with the
figures, in Chinese) and its ``source`` (which provision refused it); programs and auditors
rely on ``rule``, the rule's stable code (``workflows.rules.sources``).
"""

from __future__ import annotations

from typing import Any

from workflows.rules.sources import source


class RuleViolation(ValueError):
    """A value refused by a national rule or by the local policy.

    ``message`` is a sentence a clerk understands, e.g. "未达到法定人数：应到 11 人，实到 7 人，
    至少须 8 人到会"; ``rule`` is the rule's stable code, e.g. ``vote.quorum``, and
    ``source`` the provision it stands for, in Chinese.
    """

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule

    @property
    def source(self) -> str:
        return source(self.rule)

    def __str__(self) -> str:
        return self.message

    # Exceptions pickle by re-calling __init__ with self.args; ours takes two arguments.
    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.rule))
