"""The appointment itself (任职): notice issued, talk held, the case closed."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening, names, status_refusal
from workflows.case_book.relationships import check_recorder
from workflows.rules.dates import check_not_future
from workflows.rules.errors import RuleViolation
from workflows.types import AppointmentInput, CandidateStatus, CaseStage, CaseStatus


class AppointmentRules(CaseBookBase):
    """Appointing the candidates the notice left, then closing the case."""

    def check_appointment(self, data: AppointmentInput, today: date) -> None:
        self._require_stage(CaseStage.APPOINTMENT)
        c = self.candidate(data.person_id)
        if c.status is not CandidateStatus.TO_APPOINT:
            raise RuleViolation(
                status_refusal(c.name, "不是待任职人选", c.status), "appointment.subject"
            )
        ends = self._date("notice_ends")
        for d, what in ((data.notice_issued_on, "任职通知"), (data.talk_held_on, "任职谈话")):
            check_not_future(d, today, what)
            if d <= ends:
                raise RuleViolation(
                    f"{what}（{d}）须在任前公示期满之后；任前公示至 {ends} 止",
                    "appointment.after_notice",
                )
        check_recorder(self.state, data.actor, [c], "record_appointment")
        # judged again on the appointment's own date (the notice issued)
        self._check_eligible(
            data.notice_issued_on, "appointment_notice", "予以任职", [c], data.register_readings
        )

    def apply_appointment(self, data: AppointmentInput, today: date) -> list[Happening]:
        register = self._take_register(
            data.register_readings, {data.person_id}, data.notice_issued_on
        )
        c = self.candidate(data.person_id)
        c.status = CandidateStatus.APPOINTED
        c.appointment_notice_on, c.talk_on = data.notice_issued_on, data.talk_held_on
        out = [
            *register,
            self._input(
                data.actor,
                f"{c.name}任职：{data.notice_issued_on} 发出任职通知，"
                f"{data.talk_held_on} 由{data.talk_by}进行任职谈话",
                data,
            ),
        ]
        if self.with_status(CandidateStatus.TO_APPOINT):
            return out
        return [*out, self._close_appointed()]

    def _close_appointed(self) -> Happening:
        appointed = names([a.name for a in self.with_status(CandidateStatus.APPOINTED)])
        probation = "；实行试用期" if self.case.probation_required else ""
        return self._close(CaseStatus.APPOINTED, f"任职人员：{appointed}{probation}")
