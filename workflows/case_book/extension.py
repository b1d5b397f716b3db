"""Extending the awaited step's deadline (延期): the check, and what the history keeps."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
from workflows.rules.dates import check_not_future
from workflows.rules.deadline_extension import check_extension
from workflows.types import ExtendDeadlineInput, StepSchedule


class ExtensionRules(CaseBookBase):
    """A step's deadline moved later, with its reason and approver."""

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
        return [
            self._input(
                data.actor,
                f"{description}：期限延长 {data.working_days} 个工作日，由 {before.deadline_on} "
                f"日终延至 {schedule.deadline_on} 日终；理由：{data.reason}",
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
