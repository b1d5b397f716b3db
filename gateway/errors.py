"""What can go wrong when a front end talks to a case, as the domain says it: each front end
maps these to its own medium (an HTTP status, a page, an exit status) and nothing else.

Each kind has a ``code``, a stable English identifier (the API's ``code``); a refusal by a
rule carries the rule's own code instead. ``message`` is the sentence in Chinese."""

from __future__ import annotations

# How a front end says that Temporal did not answer, before the reason it was given.
TEMPORAL_UNREACHABLE = "暂时无法连接流程引擎（Temporal），或其未作答复"


class GatewayError(Exception):
    """A call to a case that did not do what was asked; ``message`` says why, for people."""

    code = "failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(GatewayError):
    """A rule of the regulation or the policy refused the step; ``rule`` is its source."""

    code = "refused"

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class NotPermitted(GatewayError):
    """The step is not for the actor's role (the step table, or a probation's policy)."""

    code = "not_permitted"


class NoSuchCase(GatewayError):
    """Temporal has no workflow for the case."""

    code = "no_such_case"


class CaseEnded(GatewayError):
    """The case's workflow has closed: no step can be recorded on it."""

    code = "case_ended"


class CaseExists(GatewayError):
    """A case with that id was started before."""

    code = "case_exists"


class TooLarge(GatewayError):
    """The input would be too large a payload for Temporal; nothing was sent."""

    code = "too_large"


class BadRequest(GatewayError):
    """Temporal refused the request itself (not a rule of the case)."""

    code = "bad_request"


class Unreachable(GatewayError):
    """Temporal cannot be reached or did not answer."""

    code = "temporal_unreachable"


class NoWorker(GatewayError):
    """Temporal took the call but no worker answered in time; a step may still be recorded
    when one comes back."""

    code = "no_worker"
