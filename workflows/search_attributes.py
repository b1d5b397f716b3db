"""Custom search attributes that make cases findable in the Temporal UI and CLI.

Example: ``temporal workflow list --query 'CaseStage="vote" AND CaseOverdue=true'``.
"""

from typing import Any

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_UNIT = SearchAttributeKey.for_keyword("CaseUnit")
CASE_POST = SearchAttributeKey.for_keyword("CasePost")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
CASE_OVERDUE = SearchAttributeKey.for_bool("CaseOverdue")

SEARCH_ATTRIBUTES: list[SearchAttributeKey[Any]] = [
    CASE_STAGE,
    CASE_UNIT,
    CASE_POST,
    NEXT_DEADLINE,
    CASE_OVERDUE,
]
