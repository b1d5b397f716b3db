"""The pre-appointment notice (任前公示): publication, objections, their verification and
suspensions, and moving on once all is settled."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import (
    ON_OR_AFTER_NOTICE,
    CaseBookBase,
    Happening,
    names,
    status_refusal,
)
from workflows.case_book.relationships import check_recorder
from workflows.glossary import date_label, zh
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

RULE_PROCEDURE = "notice.procedure"


class NoticeRules(CaseBookBase):
    """The public notice, its objections and suspensions."""

    def check_public_notice(self, data: PublicNoticeInput, today: date) -> None:
        self._require_stage(CaseStage.PUBLIC_NOTICE)
        if "notice_published" in self.state.dates:
            raise RuleViolation("任前公示已经发布", RULE_PROCEDURE)
        self._check_date(data.published_on, today, date_label("notice_published"), "last_meeting")
        on_notice = self.with_status(CandidateStatus.ON_NOTICE)
        check_recorder(self.state, data.actor, on_notice, "record_public_notice")

    def apply_public_notice(self, data: PublicNoticeInput, ends_on: date) -> list[Happening]:
        self.state.notice_id = data.notice_id
        self.state.dates["notice_published"] = data.published_on
        self.state.dates["notice_ends"] = ends_on
        days = self.policy.public_notice.working_days
        return [
            self._input(
                data.actor,
                f"{data.published_on} 发布任前公示 {data.notice_id}，"
                f"公示期 {days} 个工作日，至 {ends_on} 止",
                data,
            )
        ]

    def check_objection(self, data: ObjectionInput, today: date) -> None:
        # An objection received during the notice may be entered after it ended (it came by
        # post, or the case was brought in late), as long as its subject is not appointed.
        self._require_stage(CaseStage.PUBLIC_NOTICE, CaseStage.APPOINTMENT)
        if "notice_published" not in self.state.dates:
            raise RuleViolation("尚未发布任前公示", RULE_PROCEDURE)
        if any(o.objection_id == data.objection_id for o in self.state.objections):
            raise RuleViolation(
                f"反映 {data.objection_id} 已经登记", notice.RULE_OBJECTION_RECORDED
            )
        c = self.candidate(data.person_id)
        if c.status not in ON_OR_AFTER_NOTICE:
            raise RuleViolation(status_refusal(c.name, "不在公示名单中", c.status), RULE_PROCEDURE)
        check_not_future(data.received_on, today, "收到反映")
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
        out = [self._input(data.actor, f"收到关于{name}的反映 {data.objection_id}", data)]
        if self.state.stage is CaseStage.APPOINTMENT:
            for c in self.with_status(CandidateStatus.TO_APPOINT):
                c.status = CandidateStatus.ON_NOTICE
            out.append(self._move(CaseStage.PUBLIC_NOTICE, "登记公示期间收到的反映"))
        return out

    def _objection(self, objection_id: str) -> ObjectionState:
        for o in self.state.objections:
            if o.objection_id == objection_id:
                return o
        raise RuleViolation(f"本案件没有编号为 {objection_id} 的反映", RULE_PROCEDURE)

    def check_objection_verdict(self, data: ObjectionVerdictInput, today: date) -> None:
        self._require_stage(CaseStage.PUBLIC_NOTICE)
        ids = [data.objection_id, *data.same_for]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise RuleViolation(f"反映 {names(twice)} 在同一核查结果中重复列出", RULE_PROCEDURE)
        person = self._objection(data.objection_id).person_id
        check_recorder(self.state, data.actor, [self.candidate(person)], "record_objection_verdict")
        check_not_future(data.verified_on, today, "核查")
        for objection_id in ids:
            o = self._objection(objection_id)
            if o.outcome is not None:
                raise RuleViolation(f"反映 {o.objection_id} 已经核查", RULE_PROCEDURE)
            if o.person_id != person:
                raise RuleViolation(
                    f"反映 {o.objection_id} 与反映 {data.objection_id} 涉及的不是同一人；"
                    "一个核查结果只能涵盖关于同一人的反映",
                    RULE_PROCEDURE,
                )
            check_not_before(data.verified_on, o.received_on, "核查", "收到反映")

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
            c.note = f"暂缓任用至 {c.suspended_until}"
        elif effect.appoint is False:
            c.status = CandidateStatus.NOT_APPOINTED
            c.note = f"反映 {o.objection_id}：{zh(data.outcome)}"
        elif effect.reminded:
            c.reminded = True
        which = names([o.objection_id, *data.same_for])
        out = [
            self._input(
                data.actor, f"关于{c.name}的反映 {which} 核查完毕：{zh(data.outcome)}", data
            )
        ]
        return out + (self._after_notice() if self._notice_over else [])

    def check_suspension_decision(self, data: SuspensionDecisionInput, today: date) -> None:
        self._require_stage(CaseStage.PUBLIC_NOTICE)
        c = self.candidate(data.person_id)
        check_recorder(self.state, data.actor, [c], "decide_suspension")
        if c.status is not CandidateStatus.SUSPENDED or c.suspended_until is None:
            raise RuleViolation(f"{c.name}未被暂缓任用", notice.RULE_SUSPENSION)
        check_not_future(data.decided_on, today, "决定")
        verified = max(
            o.verified_on
            for o in self.state.objections
            if o.person_id == c.person_id and o.verified_on is not None
        )
        check_not_before(data.decided_on, verified, "决定", "核查")
        if data.decided_on > c.suspended_until:
            raise RuleViolation(
                f"{c.name}的暂缓任用已于 {c.suspended_until} 期满；"
                f"{data.decided_on} 作出的决定为时已晚",
                notice.RULE_SUSPENSION,
            )

    def apply_suspension_decision(
        self, data: SuspensionDecisionInput, today: date
    ) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.status = CandidateStatus.ON_NOTICE if data.appoint else CandidateStatus.NOT_APPOINTED
        c.note = f"{data.decided_on} 对暂缓任用作出决定：{data.reason}"
        verdict = "予以任用" if data.appoint else "不予任用"
        out = [self._input(data.actor, f"对{c.name}的暂缓任用作出决定：{verdict}", data)]
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
            return [self._close(CaseStatus.NOT_APPOINTED, "任前公示后没有可任用的人选")]
        return [self._move(CaseStage.APPOINTMENT, "公示期满，反映均已办结")]
