"""Withdrawing a case (撤回) at any stage while it is open."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import RULE_CASE, CaseBookBase, Happening
from workflows.glossary import zh
from workflows.rules.errors import RuleViolation
from workflows.types import CaseStatus, WithdrawInput


class WithdrawalRules(CaseBookBase):
    """Closing an open case as withdrawn."""

    def check_withdraw(self, data: WithdrawInput, today: date) -> None:
        if not self.active:
            raise RuleViolation(
                f"案件 {self.case.case_id} 已结案（{zh(self.state.status)}）", RULE_CASE
            )

    def apply_withdraw(self, data: WithdrawInput, today: date) -> list[Happening]:
        stage = zh(self.state.stage)
        return [
            self._input(data.actor, f"在「{stage}」环节撤回案件：{data.reason}", data),
            self._close(CaseStatus.WITHDRAWN, data.reason, data.actor),
        ]
