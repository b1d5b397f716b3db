"""What can go wrong when a front end talks to a case, as the domain says it: each front end
maps these to its own medium (an HTTP status, a page, an exit status) and nothing else."""

from __future__ import annotations


class GatewayError(Exception):
    """A call to a case that did not do what was asked; ``message`` says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(GatewayError):
    """A rule of the regulation or the policy refused the step; ``rule`` is its source."""

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class NotPermitted(GatewayError):
    """The step is not for the actor's role (the step table, or a probation's policy)."""


class NoSuchCase(GatewayError):
    """Temporal has no workflow for the case."""


class CaseEnded(GatewayError):
    """The case's workflow has closed: no step can be recorded on it."""


class CaseExists(GatewayError):
    """A case with that id was started before."""


class TooLarge(GatewayError):
    """The input would be too large a payload for Temporal; nothing was sent."""


class BadRequest(GatewayError):
    """Temporal refused the request itself (not a rule of the case)."""


class Unreachable(GatewayError):
    """Temporal cannot be reached or did not answer."""


class NoWorker(GatewayError):
    """Temporal took the call but no worker answered in time; a step may still be recorded
    when one comes back."""
