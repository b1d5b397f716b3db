"""The pre-appointment notice (任前公示): publication, objections, their verification and
suspensions, and moving on once all is settled."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import ON_OR_AFTER_NOTICE, CaseBookBase, Happening
from workflows.rules import notice
from workflows.rules.dates import check_not_before, check_not_future
from workflows.rules.errors import RuleViolation
from workflows.types import (
    CandidateStatus,
    CaseStage,
    CaseStatus,
    ObjectionInput,
    ObjectionState,
    ObjectionVerdictInput,
    PublicNoticeInput,
    SuspensionDecisionInput,
)


class NoticeRules(CaseBookBase):
    """The public notice, its objections and suspensions."""

    def check_public_notice(self, data: PublicNoticeInput, today: date) -> None:
        self._require_stage(CaseStage.PUBLIC_NOTICE)
        if "notice_published" in self.state.dates:
            raise RuleViolation("the pre-appointment notice is already published", "任前公示")
        self._check_date(data.published_on, today, "the notice", "last_meeting")

    def apply_public_notice(self, data: PublicNoticeInput, ends_on: date) -> list[Happening]:
        self.state.notice_id = data.notice_id
        self.state.dates["notice_published"] = data.published_on
        self.state.dates["notice_ends"] = ends_on
        days = self.policy.public_notice.working_days
        return [
            self._input(
                data.actor,
                f"pre-appointment notice {data.notice_id} published on {data.published_on}; "
                f"{days} working days, until {ends_on}",
                data,
            )
        ]

    def check_objection(self, data: ObjectionInput, today: date) -> None:
        # An objection received during the notice may be entered after it ended (it came by
        # post, or the case was brought in late), as long as its subject is not appointed.
        self._require_stage(CaseStage.PUBLIC_NOTICE, CaseStage.APPOINTMENT)
        if "notice_published" not in self.state.dates:
            raise RuleViolation("no pre-appointment notice is published yet", "任前公示")
        if any(o.objection_id == data.objection_id for o in self.state.objections):
            raise RuleViolation(f"objection {data.objection_id} is already recorded", "任前公示")
        c = self.candidate(data.person_id)
        if c.status not in ON_OR_AFTER_NOTICE:
            raise RuleViolation(f"{c.name} is not on the notice ({c.status.value})", "任前公示")
        check_not_future(data.received_on, today, "the objection")
        notice.check_objection_in_period(
            data.received_on, self._date("notice_published"), self._date("notice_ends")
        )

    def apply_objection(self, data: ObjectionInput, today: date) -> list[Happening]:
        self.state.objections.append(
            ObjectionState(
                objection_id=data.objection_id,
                person_id=data.person_id,
                received_on=data.received_on,
                anonymous=data.anonymous,
            )
        )
        name = self.candidate(data.person_id).name
        out = [self._input(data.actor, f"objection {data.objection_id} about {name}", data)]
        if self.state.stage is CaseStage.APPOINTMENT:
            for c in self.with_status(CandidateStatus.TO_APPOINT):
                c.status = CandidateStatus.ON_NOTICE
            out.append(
                self._move(CaseStage.PUBLIC_NOTICE, "an objection received during the notice")
            )
        return out

    def _objection(self, objection_id: str) -> ObjectionState:
        for o in self.state.objections:
            if o.objection_id == objection_id:
                return o
        raise RuleViolation(f"no objection {objection_id} in this case", "任前公示")

    def check_objection_verdict(self, data: ObjectionVerdictInput, today: date) -> None:
        self._require_stage(CaseStage.PUBLIC_NOTICE)
        ids = [data.objection_id, *data.same_for]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise RuleViolation(
                f"objection {', '.join(twice)} is named twice in one verdict", "任前公示"
            )
        person = self._objection(data.objection_id).person_id
        check_not_future(data.verified_on, today, "the verification")
        for objection_id in ids:
            o = self._objection(objection_id)
            if o.outcome is not None:
                raise RuleViolation(f"objection {o.objection_id} is already verified", "任前公示")
            if o.person_id != person:
                raise RuleViolation(
                    f"objection {o.objection_id} is about another person than "
                    f"{data.objection_id}; one verdict covers objections about one person",
                    "任前公示",
                )
            check_not_before(data.verified_on, o.received_on, "the verification", "the objection")

    def apply_objection_verdict(self, data: ObjectionVerdictInput, today: date) -> list[Happening]:
        o = self._objection(data.objection_id)
        for objection_id in [data.objection_id, *data.same_for]:
            each = self._objection(objection_id)
            each.outcome, each.verified_on = data.outcome, data.verified_on
        c = self.candidate(o.person_id)
        effect = notice.effect_of(data.outcome)
        if c.status is CandidateStatus.NOT_APPOINTED:
            pass  # a confirmed serious problem stands, whatever another objection finds
        elif effect.suspend:
            if c.status is not CandidateStatus.SUSPENDED:
                # the national 3-month limit runs from the first suspension, never renewed
                c.suspended_until = notice.suspension_ends(
                    data.verified_on, self.policy.suspension.max_months
                )
            c.status = CandidateStatus.SUSPENDED
            c.note = f"appointment suspended until {c.suspended_until}"
        elif effect.appoint is False:
            c.status = CandidateStatus.NOT_APPOINTED
            c.note = f"objection {o.objection_id}: serious problem confirmed"
        elif effect.reminded:
            c.reminded = True
        which = f"objection {o.objection_id}"
        if data.same_for:
            which = f"objections {', '.join([o.objection_id, *data.same_for])}"
        out = [
            self._input(data.actor, f"{which} about {c.name} verified: {data.outcome.value}", data)
        ]
        return out + (self._after_notice() if self._notice_over else [])

    def check_suspension_decision(self, data: SuspensionDecisionInput, today: date) -> None:
        self._require_stage(CaseStage.PUBLIC_NOTICE)
        c = self.candidate(data.person_id)
        if c.status is not CandidateStatus.SUSPENDED or c.suspended_until is None:
            raise RuleViolation(f"the appointment of {c.name} is not suspended", "暂缓任用")
        check_not_future(data.decided_on, today, "the decision")
        verified = max(
            o.verified_on
            for o in self.state.objections
            if o.person_id == c.person_id and o.verified_on is not None
        )
        check_not_before(data.decided_on, verified, "the decision", "the verification")
        if data.decided_on > c.suspended_until:
            raise RuleViolation(
                f"the suspension of {c.name} ended on {c.suspended_until}; "
                f"a decision dated {data.decided_on} is too late",
                "暂缓任用: at most 3 months",
            )

    def apply_suspension_decision(
        self, data: SuspensionDecisionInput, today: date
    ) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.status = CandidateStatus.ON_NOTICE if data.appoint else CandidateStatus.NOT_APPOINTED
        c.note = f"suspension decided on {data.decided_on}: {data.reason}"
        verdict = "appoint" if data.appoint else "do not appoint"
        out = [self._input(data.actor, f"suspension of {c.name} decided: {verdict}", data)]
        return out + (self._after_notice() if self._notice_over else [])

    def _after_notice(self) -> list[Happening]:
        """Once the period is over and every objection and suspension is settled, move on."""
        if any(o.outcome is None for o in self.state.objections):
            return []
        if self.with_status(CandidateStatus.SUSPENDED):
            return []
        to_appoint = self.with_status(CandidateStatus.ON_NOTICE)
        for c in to_appoint:
            c.status = CandidateStatus.TO_APPOINT
        if not to_appoint and self.with_status(CandidateStatus.APPOINTED):
            return [self._close_appointed()]  # a late objection about the other post's person
        if not to_appoint:
            return [
                self._close(
                    CaseStatus.NOT_APPOINTED,
                    "no candidate remains after the pre-appointment notice",
                )
            ]
        return [self._move(CaseStage.APPOINTMENT, "the notice is over and settled")]
