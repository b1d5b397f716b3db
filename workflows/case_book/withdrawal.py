"""Withdrawing a case (撤回) at any stage while it is open."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
from workflows.rules.errors import RuleViolation
from workflows.types import CaseStatus, WithdrawInput


class WithdrawalRules(CaseBookBase):
    """Closing an open case as withdrawn."""

    def check_withdraw(self, data: WithdrawInput, today: date) -> None:
        if not self.active:
            raise RuleViolation(
                f"case {self.case.case_id} is already closed ({self.state.status.value})", "case"
            )

    def apply_withdraw(self, data: WithdrawInput, today: date) -> list[Happening]:
        stage = self.state.stage.value
        return [
            self._input(data.actor, f"withdrawn at stage {stage}: {data.reason}", data),
            self._close(CaseStatus.WITHDRAWN, data.reason, data.actor),
        ]
