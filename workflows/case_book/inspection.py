"""From eligibility to the inspection's conclusion: the eligibility check on entering the
inspection phase, the investigation notice (考察预告) and the inspection itself."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
from workflows.rules import eligibility, inspection
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


class InspectionRules(CaseBookBase):
    """Eligibility, investigation notice and inspection."""

    # ------------------------------------------------------------------ eligibility

    def enter_inspection_phase(self, today: date) -> list[Happening]:
        """Check every candidate before inspection, whatever the method, then move on."""
        months = self.policy.impact_months_all()
        out: list[Happening] = []
        for c in self.with_status(CandidateStatus.IN_POOL):
            problems = eligibility.eligibility_problems(self.people[c.person_id], today, months)
            if problems:
                c.status = CandidateStatus.INELIGIBLE
                c.note = "; ".join(problems)
                out.append(Happening("eligibility", f"{c.name} is not eligible: {c.note}"))
        pool = self.with_status(CandidateStatus.IN_POOL)
        out.append(
            Happening(
                "eligibility",
                f"eligibility checked on {today}: {len(pool)} eligible candidate(s)",
                payload={"checked_on": today.isoformat(), "eligible": [c.person_id for c in pool]},
            )
        )
        if len(pool) < self.case.positions:
            out.append(
                self._close(
                    CaseStatus.NOT_APPOINTED,
                    f"fewer eligible candidates ({len(pool)}) than posts ({self.case.positions})",
                )
            )
            return out
        if any(c.needs_approval_before_inspection for c in pool):
            out.append(
                self._move(
                    CaseStage.PRE_INSPECTION_APPROVAL,
                    "an exceptional promotion skips a level or did not come through democratic "
                    "recommendation: the higher level must approve before inspection",
                )
            )
        else:
            out.append(self._move(CaseStage.INVESTIGATION_NOTICE, "candidates are eligible"))
        return out

    # ------------------------------------------------------------------ investigation notice

    def check_investigation_notice(self, data: InvestigationNoticeInput, today: date) -> None:
        self._require_stage(CaseStage.INVESTIGATION_NOTICE)
        after = "interview" if "interview" in self.state.dates else "opened"
        self._check_date(data.published_on, today, "the investigation notice", after)
        if "last_approval" in self.state.dates:
            check_not_before(
                data.published_on,
                self._date("last_approval"),
                "the investigation notice",
                "the higher level's approval",
            )
        inspection.check_competitive(
            len(self.with_status(CandidateStatus.IN_POOL)),
            self.case.positions,
            data.one_to_one_reason,
        )

    def apply_investigation_notice(
        self, data: InvestigationNoticeInput, window: tuple[date, date]
    ) -> list[Happening]:
        self.state.dates["investigation_notice"] = data.published_on
        self.state.dates["inspection_window_start"] = window[0]
        self.state.dates["inspection_window_end"] = window[1]
        self.state.one_to_one_reason = data.one_to_one_reason
        names = ", ".join(c.name for c in self.with_status(CandidateStatus.IN_POOL))
        return [
            self._input(
                data.actor,
                f"investigation notice published on {data.published_on} for {names}; "
                f"inspection may start from {window[0]} to {window[1]}",
                data,
            ),
            self._move(CaseStage.INSPECTION, "investigation notice published"),
        ]

    # ------------------------------------------------------------------ inspection

    def check_inspection_team(self, data: InspectionTeamInput, today: date) -> None:
        self._require_stage(CaseStage.INSPECTION)
        if "inspection_started" in self.state.dates:
            raise RuleViolation("the inspection team is already recorded", "inspection")
        inspection.check_team(data.members, self.policy.inspection.team_min_size)
        check_not_future(data.started_on, today, "the start of inspection")
        inspection.check_within(
            data.started_on,
            self._date("inspection_window_start"),
            self._date("inspection_window_end"),
            "the start of inspection",
        )

    def apply_inspection_team(self, data: InspectionTeamInput, today: date) -> list[Happening]:
        self.state.inspection_team = list(data.members)
        self.state.dates["inspection_started"] = data.started_on
        return [
            self._input(
                data.actor,
                f"inspection started on {data.started_on} by {', '.join(data.members)}",
                data,
            )
        ]

    def _inspected(self, person_id: str) -> CandidateState:
        self._require_stage(CaseStage.INSPECTION)
        if "inspection_started" not in self.state.dates:
            raise RuleViolation("record the inspection team and its start first", "inspection")
        c = self.candidate(person_id)
        if c.status is not CandidateStatus.IN_POOL:
            raise RuleViolation(f"{c.name} is not under inspection ({c.status.value})", "考察")
        return c

    def _check_inspection_date(self, d: date, today: date, what: str) -> None:
        self._check_date(d, today, what, "inspection_started")

    def check_inspection_check(self, data: InspectionCheckInput, today: date) -> None:
        c = self._inspected(data.person_id)
        if data.check.value in c.checks:
            raise RuleViolation(f"{data.check.value} is already recorded for {c.name}", "四必")
        self._check_inspection_date(data.completed_on, today, data.check.value)

    def apply_inspection_check(self, data: InspectionCheckInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.checks[data.check.value] = data.completed_on
        return [self._input(data.actor, f"{data.check.value} done for {c.name}", data)]

    def check_democratic_evaluation(self, data: DemocraticEvaluationInput, today: date) -> None:
        c = self._inspected(data.person_id)
        if c.evaluation_on is not None:
            raise RuleViolation(f"the democratic evaluation of {c.name} is recorded", "民主测评")
        self._check_inspection_date(data.held_on, today, "the democratic evaluation")
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
        return [self._input(data.actor, f"democratic evaluation of {c.name} recorded", data)]

    def check_inspection_report(self, data: InspectionReportInput, today: date) -> None:
        c = self._inspected(data.person_id)
        if c.report_on is not None:
            raise RuleViolation(f"the inspection report on {c.name} is recorded", "考察材料")
        self._check_inspection_date(data.submitted_on, today, "the inspection report")

    def apply_inspection_report(self, data: InspectionReportInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.report_on = data.submitted_on
        return [self._input(data.actor, f"inspection report on {c.name} submitted", data)]

    def check_inspection_conclusion(self, data: InspectionConclusionInput, today: date) -> None:
        self._require_stage(CaseStage.INSPECTION)
        if "inspection_started" not in self.state.dates:
            raise RuleViolation("record the inspection team and its start first", "inspection")
        self._check_inspection_date(data.concluded_on, today, "the inspection's conclusion")
        pool = self.with_status(CandidateStatus.IN_POOL)
        unreported = [c.name for c in pool if c.report_on is None]
        if unreported:
            raise RuleViolation(
                f"every inspected candidate needs a report; missing for {', '.join(unreported)}",
                "考察材料",
            )
        if not data.proposed or len(set(data.proposed)) != len(data.proposed):
            raise RuleViolation("propose at least one candidate, each once", "inspection")
        if len(data.proposed) > self.case.positions:
            raise RuleViolation(
                f"{len(data.proposed)} proposed for {self.case.positions} post(s)", "inspection"
            )
        for person_id in data.proposed:
            c = self._inspected(person_id)
            missing = inspection.missing_checks(
                [InspectionCheck(k) for k in c.checks], self.case.economic_audit_required
            )
            if missing:
                raise RuleViolation(
                    f"{c.name} cannot go to the vote: not yet done: "
                    + ", ".join(m.value for m in missing),
                    "凡提四必",
                )
            if c.evaluation_on is None:
                raise RuleViolation(f"{c.name} has no democratic evaluation", "民主测评")
            reports = [c.report_on, c.evaluation_on, *c.checks.values()]
            for d in reports:
                if d is not None:
                    check_not_before(data.concluded_on, d, "the conclusion", "its inputs")

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
        names = ", ".join(self.candidate(p).name for p in data.proposed)
        out = [self._input(data.actor, f"inspection concluded; proposed: {names}", data)]
        if self._awaiting_approval():
            return [
                *out,
                self._move(
                    CaseStage.HIGHER_APPROVAL,
                    "an exceptional promotion needs the higher level's consent before the vote",
                ),
            ]
        return [*out, self._move(CaseStage.VOTE, "inspection concluded")]
