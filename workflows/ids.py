"""Workflow IDs derived from business keys, so a case can never be started twice."""

CASE_WORKFLOW_PREFIX = "appointment-case-"


def case_workflow_id(case_id: str) -> str:
    return f"{CASE_WORKFLOW_PREFIX}{case_id}"
