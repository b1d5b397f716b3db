"""The appointment itself (任职): notice issued, talk held, the case closed."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
from workflows.rules.dates import check_not_future
from workflows.rules.errors import RuleViolation
from workflows.types import AppointmentInput, CandidateStatus, CaseStage, CaseStatus


class AppointmentRules(CaseBookBase):
    """Appointing the candidates the notice left, then closing the case."""

    def check_appointment(self, data: AppointmentInput, today: date) -> None:
        self._require_stage(CaseStage.APPOINTMENT)
        c = self.candidate(data.person_id)
        if c.status is not CandidateStatus.TO_APPOINT:
            raise RuleViolation(f"{c.name} is not to be appointed ({c.status.value})", "任职")
        ends = self._date("notice_ends")
        for d, what in ((data.notice_issued_on, "appointment notice"), (data.talk_held_on, "talk")):
            check_not_future(d, today, f"the {what}")
            if d <= ends:
                raise RuleViolation(
                    f"the {what} ({d}) must come after the pre-appointment notice, "
                    f"which ran until {ends}",
                    "任前公示 before 任职",
                )

    def apply_appointment(self, data: AppointmentInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.status = CandidateStatus.APPOINTED
        c.appointment_notice_on, c.talk_on = data.notice_issued_on, data.talk_held_on
        out = [
            self._input(
                data.actor,
                f"{c.name} appointed: notice issued {data.notice_issued_on}, "
                f"talk on {data.talk_held_on} by {data.talk_by}",
                data,
            )
        ]
        if self.with_status(CandidateStatus.TO_APPOINT):
            return out
        return [*out, self._close_appointed()]

    def _close_appointed(self) -> Happening:
        names = ", ".join(a.name for a in self.with_status(CandidateStatus.APPOINTED))
        probation = "; probation required" if self.case.probation_required else ""
        return self._close(CaseStatus.APPOINTED, f"appointed: {names}{probation}")
