"""Who may do what through the API: one table of actions and the roles allowed each.

Every endpoint names its action; ``api.deps.permit`` refuses (403) a caller whose role is
not listed, before the request's content is even read. The workflow still applies its own
rules to the step itself; this table only says who may ask.
"""

from __future__ import annotations

from types import MappingProxyType

from workflows.types import Role

_READERS = frozenset(
    {
        Role.CLERK,
        Role.SECTION_CHIEF,
        Role.DEPARTMENT_HEAD,
        Role.INSPECTION_TEAM,
        Role.COMMITTEE_SECRETARY,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)
_CLERK = frozenset({Role.CLERK})
_TEAM = frozenset({Role.INSPECTION_TEAM})
_HEAD = frozenset({Role.DEPARTMENT_HEAD})

# Reads that are not the case itself: the audit timeline is for those who check the work.
READ_CASES = "read_cases"
READ_AUDIT = "read_audit"
READ_INBOX = "read_inbox"
START_CASE = "start_case"

ALLOWED: MappingProxyType[str, frozenset[Role]] = MappingProxyType(
    {
        READ_CASES: _READERS,
        READ_AUDIT: frozenset({Role.AUDITOR, Role.DEPARTMENT_HEAD}),
        READ_INBOX: _READERS,
        START_CASE: _CLERK,
        # exam
        "record_registration": _CLERK,
        "record_written_test": _CLERK,
        "record_interview": _CLERK,
        # inspection: the team records what it found; the clerk the notice and conclusion
        "record_investigation_notice": _CLERK,
        "record_inspection_team": _TEAM,
        "record_inspection_check": _TEAM,
        "record_democratic_evaluation": _TEAM,
        "record_inspection_report": _TEAM,
        "conclude_inspection": _CLERK,
        # decisions
        "record_higher_approval": _HEAD,
        "record_vote": frozenset({Role.COMMITTEE_SECRETARY}),
        "decide_suspension": _HEAD,
        # notice and appointment
        "record_public_notice": _CLERK,
        "record_objection": _CLERK,
        "record_objection_verdict": _CLERK,
        "record_appointment": _CLERK,
        "withdraw": frozenset({Role.CLERK, Role.DEPARTMENT_HEAD}),
        "retry_blocked": frozenset({Role.ADMINISTRATOR}),
    }
)

# Roles that may read any role's inbox, not only their own.
INBOX_OVERSEERS = frozenset({Role.DEPARTMENT_HEAD, Role.AUDITOR, Role.ADMINISTRATOR})


def allowed(action: str, role: Role) -> bool:
    return role in ALLOWED[action]
