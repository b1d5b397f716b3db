"""From eligibility to the inspection's conclusion: the eligibility check on entering the
inspection phase, the investigation notice (考察预告) and the inspection itself."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening, names, status_refusal
from workflows.case_book.relationships import check_recorder
from workflows.glossary import date_label, zh
from workflows.rules import eligibility, inspection, recusal
from workflows.rules.dates import check_not_before, check_not_future
from workflows.rules.errors import RuleViolation
from workflows.types import (
    CandidateState,
    CandidateStatus,
    CaseStage,
    CaseStatus,
    DemocraticEvaluationInput,
    InspectionCheck,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
)

RULE_ORDER = "inspection.order"
RULE_REPORT = "inspection.report"

# The team's steps for one candidate, by their input: whose recorder withdraws (回避).
_Recorded = InspectionCheckInput | DemocraticEvaluationInput | InspectionReportInput
_STEPS: dict[type, str] = {
    InspectionCheckInput: "record_inspection_check",
    DemocraticEvaluationInput: "record_democratic_evaluation",
    InspectionReportInput: "record_inspection_report",
}


class InspectionRules(CaseBookBase):
    """Eligibility, investigation notice and inspection."""

    # ------------------------------------------------------------------ eligibility

    def enter_inspection_phase(self, on: date) -> list[Happening]:
        """Check every candidate before inspection, whatever the method, then move on.

        ``on`` is the date of the act that brings the pool in: the case's opening, or the
        exam's interview; the inspection, the vote and the appointment judge again on theirs.
        """
        months = self.policy.impact_months_all()
        out: list[Happening] = []
        for c in self.with_status(CandidateStatus.IN_POOL):
            problems = eligibility.eligibility_problems(
                self.people[c.person_id], on, months, leading_post=self.case.leading_post
            )
            if problems:
                c.status = CandidateStatus.INELIGIBLE
                c.note = "；".join(problems)
                out.append(Happening("eligibility", f"{c.name}不符合任职条件：{c.note}"))
        pool = self.with_status(CandidateStatus.IN_POOL)
        out.append(
            Happening(
                "eligibility",
                f"{on} 任职资格审查：符合条件的人选 {len(pool)} 人",
                payload={"checked_on": on.isoformat(), "eligible": [c.person_id for c in pool]},
            )
        )
        if len(pool) < self.case.positions:
            out.append(
                self._close(
                    CaseStatus.NOT_APPOINTED,
                    f"符合条件的人选（{len(pool)} 人）少于拟任职数（{self.case.positions} 个）",
                )
            )
            return out
        if any(c.needs_approval_before_inspection for c in pool):
            out.append(
                self._move(
                    CaseStage.PRE_INSPECTION_APPROVAL,
                    "破格提拔人选越级提拔或未经民主推荐：考察前须报上级审批",
                )
            )
        else:
            out.append(self._move(CaseStage.INVESTIGATION_NOTICE, "人选符合任职条件"))
        return out

    # ------------------------------------------------------------------ investigation notice

    def check_investigation_notice(self, data: InvestigationNoticeInput, today: date) -> None:
        self._require_stage(CaseStage.INVESTIGATION_NOTICE)
        after = "interview" if "interview" in self.state.dates else "opened"
        what = date_label("investigation_notice")
        self._check_date(data.published_on, today, what, after)
        if "last_approval" in self.state.dates:
            check_not_before(
                data.published_on, self._date("last_approval"), what, date_label("last_approval")
            )
        pool = self.with_status(CandidateStatus.IN_POOL)
        inspection.check_competitive(len(pool), self.case.positions, data.one_to_one_reason)
        check_recorder(self.state, data.actor, pool, "record_investigation_notice")

    def apply_investigation_notice(
        self, data: InvestigationNoticeInput, window: tuple[date, date]
    ) -> list[Happening]:
        self.state.dates["investigation_notice"] = data.published_on
        self.state.dates["inspection_window_start"] = window[0]
        self.state.dates["inspection_window_end"] = window[1]
        self.state.one_to_one_reason = data.one_to_one_reason
        pool = names([c.name for c in self.with_status(CandidateStatus.IN_POOL)])
        return [
            self._input(
                data.actor,
                f"{data.published_on} 发布考察预告，考察对象：{pool}；"
                f"考察可于 {window[0]} 至 {window[1]} 开始",
                data,
            ),
            self._move(CaseStage.INSPECTION, "已发布考察预告"),
        ]

    # ------------------------------------------------------------------ inspection

    def check_inspection_team(self, data: InspectionTeamInput, today: date) -> None:
        self._require_stage(CaseStage.INSPECTION)
        if "inspection_started" in self.state.dates:
            raise RuleViolation("考察组已经登记", RULE_ORDER)
        inspection.check_team(data.members, self.policy.inspection.team_min_size)
        pool = self.with_status(CandidateStatus.IN_POOL)
        # a member related to a candidate the team inspects withdraws from the inspection
        recusal.check_team(
            data.members, {c.person_id: c.name for c in pool}, self.state.relationships
        )
        check_recorder(self.state, data.actor, pool, "record_inspection_team")
        check_not_future(data.started_on, today, date_label("inspection_started"))
        inspection.check_within(
            data.started_on,
            self._date("inspection_window_start"),
            self._date("inspection_window_end"),
            date_label("inspection_started"),
        )
        # the gate of the inspection, judged on its start (a case brought in late included)
        self._check_recommendation(data.started_on)
        self._check_eligible(
            data.started_on, "inspection_started", "进行考察", pool, data.register_readings
        )

    def apply_inspection_team(self, data: InspectionTeamInput, today: date) -> list[Happening]:
        pool = {c.person_id for c in self.with_status(CandidateStatus.IN_POOL)}
        register = self._take_register(data.register_readings, pool, data.started_on)
        self.state.inspection_team = list(data.members)
        self.state.dates["inspection_started"] = data.started_on
        return [
            *register,
            self._input(
                data.actor,
                f"{data.started_on} 开始考察，考察组：{names(data.members)}",
                data,
            ),
        ]

    def _inspected(self, person_id: str, data: _Recorded | None = None) -> CandidateState:
        """The candidate ``person_id`` under inspection; ``data``, the step recording for
        them, is refused when its recorder is related to them."""
        self._require_stage(CaseStage.INSPECTION)
        if "inspection_started" not in self.state.dates:
            raise RuleViolation("请先登记考察组及考察开始日期", RULE_ORDER)
        c = self.candidate(person_id)
        if c.status is not CandidateStatus.IN_POOL:
            raise RuleViolation(status_refusal(c.name, "不在考察中", c.status), RULE_ORDER)
        if data is not None:
            check_recorder(self.state, data.actor, [c], _STEPS[type(data)])
        return c

    def _check_inspection_date(self, d: date, today: date, what: str) -> None:
        self._check_date(d, today, what, "inspection_started")

    def check_inspection_check(self, data: InspectionCheckInput, today: date) -> None:
        c = self._inspected(data.person_id, data)
        if data.check.value in c.checks:
            raise RuleViolation(f"{c.name}的{zh(data.check)}核查已经登记", "inspection.four_musts")
        self._check_inspection_date(data.completed_on, today, f"{zh(data.check)}核查")

    def apply_inspection_check(self, data: InspectionCheckInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.checks[data.check.value] = data.completed_on
        return [self._input(data.actor, f"{c.name}的{zh(data.check)}核查完成", data)]

    def check_democratic_evaluation(self, data: DemocraticEvaluationInput, today: date) -> None:
        c = self._inspected(data.person_id, data)
        if c.evaluation_on is not None:
            raise RuleViolation(f"{c.name}的民主测评已经登记", inspection.RULE_EVALUATION)
        self._check_inspection_date(data.held_on, today, "民主测评")
        inspection.check_evaluation(
            data.participants,
            data.excellent,
            data.competent,
            data.basically_competent,
            data.incompetent,
        )

    def apply_democratic_evaluation(
        self, data: DemocraticEvaluationInput, today: date
    ) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.evaluation_on = data.held_on
        return [self._input(data.actor, f"登记{c.name}的民主测评", data)]

    def check_inspection_report(self, data: InspectionReportInput, today: date) -> None:
        c = self._inspected(data.person_id, data)
        if c.report_on is not None:
            raise RuleViolation(f"{c.name}的考察材料已经登记", RULE_REPORT)
        self._check_inspection_date(data.submitted_on, today, "考察材料")

    def apply_inspection_report(self, data: InspectionReportInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.report_on = data.submitted_on
        return [self._input(data.actor, f"提交{c.name}的考察材料", data)]

    def check_inspection_conclusion(self, data: InspectionConclusionInput, today: date) -> None:
        self._require_stage(CaseStage.INSPECTION)
        if "inspection_started" not in self.state.dates:
            raise RuleViolation("请先登记考察组及考察开始日期", RULE_ORDER)
        concluded = date_label("inspection_concluded")
        self._check_inspection_date(data.concluded_on, today, concluded)
        pool = self.with_status(CandidateStatus.IN_POOL)
        check_recorder(self.state, data.actor, pool, "conclude_inspection")
        unreported = [c.name for c in pool if c.report_on is None]
        if unreported:
            raise RuleViolation(
                f"每名考察对象都须有考察材料；缺少：{names(unreported)}", RULE_REPORT
            )
        if not data.proposed or len(set(data.proposed)) != len(data.proposed):
            raise RuleViolation("提交常委会的人选至少一名，每人只列一次", RULE_ORDER)
        if len(data.proposed) > self.case.positions:
            raise RuleViolation(
                f"提交常委会 {len(data.proposed)} 人，拟任职数只有 {self.case.positions} 个",
                RULE_ORDER,
            )
        for person_id in data.proposed:
            c = self._inspected(person_id)
            missing = inspection.missing_checks(
                [InspectionCheck(k) for k in c.checks], self.case.economic_audit_required
            )
            if missing:
                raise RuleViolation(
                    f"{c.name}尚不能提交常委会，尚未完成：{names([zh(m) for m in missing])}",
                    "inspection.four_musts",
                )
            if c.evaluation_on is None:
                raise RuleViolation(f"{c.name}尚无民主测评", inspection.RULE_EVALUATION)
            reports = [c.report_on, c.evaluation_on, *c.checks.values()]
            for d in reports:
                if d is not None:
                    check_not_before(data.concluded_on, d, concluded, f"{c.name}的考察各项")

    def apply_inspection_conclusion(
        self, data: InspectionConclusionInput, today: date
    ) -> list[Happening]:
        self.state.dates["inspection_concluded"] = data.concluded_on
        for c in self.with_status(CandidateStatus.IN_POOL):
            c.status = (
                CandidateStatus.PROPOSED
                if c.person_id in data.proposed
                else CandidateStatus.NOT_PROPOSED
            )
        proposed = names([self.candidate(p).name for p in data.proposed])
        out = [self._input(data.actor, f"考察结束；提交常委会：{proposed}", data)]
        if self._awaiting_approval():
            return [
                *out,
                self._move(
                    CaseStage.HIGHER_APPROVAL,
                    "破格提拔人选须在常委会票决前征得上级组织部门同意",
                ),
            ]
        return [*out, self._move(CaseStage.VOTE, "考察结束")]
