"""Extending the awaited step's deadline (延期): the check, and what the history keeps."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
from workflows.rules.dates import check_not_future
from workflows.rules.deadline_extension import (
    check_approver_not_requester,
    check_extension,
    check_request_not_applied,
)
from workflows.types import ExtendDeadlineInput, StepSchedule


class ExtensionRules(CaseBookBase):
    """A step's deadline moved later, with its reason and approver (and, when it grants a
    request, who asked for it)."""

    def check_deadline_extension(self, data: ExtendDeadlineInput, today: date) -> None:
        check_not_future(data.decided_on, today, "延期批准")
        check_extension(
            self.state.step,
            self.policy.extension,
            data.actor.role,
            data.step,
            data.working_days,
            data.decided_on,
        )
        check_approver_not_requester(data.requested_by, data.actor.name)
        check_request_not_applied(self.state.step, data.request_id)

    def apply_deadline_extension(
        self,
        data: ExtendDeadlineInput,
        before: StepSchedule,
        schedule: StepSchedule,
        description: str,
    ) -> list[Happening]:
        """The step's new deadline (its reminders and ladder move with it); the entry keeps
        the deadline before and after."""
        step = self.state.step
        assert step is not None
        step.extended_working_days += data.working_days
        step.extensions += 1
        step.deadline_at = schedule.deadline_at
        step.overdue = False
        if data.request_id is not None:
            step.extension_requests.append(data.request_id)
        # an approved request (延期申请) names who asked and who granted it
        asked = (
            f"{data.requested_by} 申请，{data.actor.name} 批准："
            if data.requested_by is not None
            else ""
        )
        return [
            self._input(
                data.actor,
                f"{description}：{asked}期限延长 {data.working_days} 个工作日，由 "
                f"{before.deadline_on} 日终延至 {schedule.deadline_on} 日终；理由：{data.reason}",
                data,
            ),
            Happening(
                "deadline",
                f"{description}：须于 {schedule.deadline_on} 日终前完成（第 {step.extensions} "
                f"次延期；工作日历：{schedule.calendar_source}）",
                payload={
                    **schedule.model_dump(mode="json"),
                    "extended_from": before.deadline_on.isoformat(),
                    "extension": step.extensions,
                },
            ),
        ]
