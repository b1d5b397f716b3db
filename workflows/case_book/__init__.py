"""The state of one appointment case and every rule that changes it (pure, no Temporal).

``CaseBook`` owns the case: the workflow asks it which step is awaited, checks each human
input with ``check_*`` (the update validators) and applies it with ``apply_*`` (the update
handlers). Each ``apply_*`` returns the ``Happening`` list the workflow records. Nothing here
reads a clock: "today" and computed calendar dates are passed in, so the same inputs always
give the same case, in tests and on replay.

The package: ``core`` (state, constructor, shared helpers), one module per stage (``exam``,
``inspection``, ``decisions``, ``notice``, ``appointment``, ``withdrawal``), the declared
kinships and the recusal they impose (``relationships``), ``awaited``
(the awaited step and timers), ``extension`` (延期 of its deadline), ``assignment``
(认领、指派 of the awaited step) and ``projections``
(the public board view, the listing row).
"""

from __future__ import annotations

from workflows.case_book.appointment import AppointmentRules
from workflows.case_book.assignment import AssignmentRules
from workflows.case_book.awaited import AwaitedStep, AwaitedSteps
from workflows.case_book.core import (
    ON_OR_AFTER_NOTICE,
    SYSTEM_ACTOR,
    Happening,
    check_case_input,
)
from workflows.case_book.decisions import DecisionRules
from workflows.case_book.exam import ExamRules
from workflows.case_book.extension import ExtensionRules
from workflows.case_book.inspection import InspectionRules
from workflows.case_book.notice import NoticeRules
from workflows.case_book.projections import Projections
from workflows.case_book.relationships import RelationshipRules
from workflows.case_book.withdrawal import WithdrawalRules

__all__ = [
    "ON_OR_AFTER_NOTICE",
    "SYSTEM_ACTOR",
    "AwaitedStep",
    "CaseBook",
    "Happening",
    "check_case_input",
]


class CaseBook(
    Projections,
    AwaitedSteps,
    WithdrawalRules,
    ExamRules,
    InspectionRules,
    DecisionRules,
    NoticeRules,
    AppointmentRules,
    RelationshipRules,
    ExtensionRules,
    AssignmentRules,
):
    """One case: its state (``self.state``), the people in it and the rules."""
