"""The exam stage of a competitive selection: registration, written test and interview."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening, check_register_read, names
from workflows.case_book.relationships import check_recorder
from workflows.glossary import date_label
from workflows.rules import exam
from workflows.rules.dates import check_not_before, check_not_future
from workflows.rules.errors import RuleViolation
from workflows.types import (
    CandidateStatus,
    CaseStage,
    CaseStatus,
    ExamScoresInput,
    RegistrationInput,
)

RULE_ORDER = "exam.order"
RULE_REGISTRATION = "exam.registration"


class ExamRules(CaseBookBase):
    """Registration, written test and interview scores."""

    def check_registration(self, data: RegistrationInput, today: date) -> None:
        self._require_stage(CaseStage.EXAM)
        if "registration_closed" in self.state.dates:
            raise RuleViolation("报名与资格审查已经登记", RULE_ORDER)
        announced, closed = date_label("exam_announced"), date_label("registration_closed")
        self._check_date(data.announced_on, today, announced, "opened")
        check_not_future(data.closed_on, today, closed)
        check_not_before(data.closed_on, data.announced_on, closed, announced)
        ids = [a.candidate.person_id for a in data.applicants]
        if len(set(ids)) != len(ids):
            raise RuleViolation("每人只能报名一次", RULE_REGISTRATION)
        check_register_read([a.candidate for a in data.applicants])
        for a in data.applicants:
            check_not_before(
                a.registered_on, data.announced_on, f"{a.candidate.name}的报名", announced
            )
            if a.registered_on > data.closed_on:
                raise RuleViolation(
                    f"{a.candidate.name}于 {a.registered_on} 报名，"
                    f"晚于报名截止日期 {data.closed_on}",
                    RULE_REGISTRATION,
                )
            if not a.qualified and not a.reason.strip():
                raise RuleViolation(
                    f"{a.candidate.name}资格审查未通过，须记录理由", "exam.qualification"
                )

    def apply_registration(self, data: RegistrationInput, today: date) -> list[Happening]:
        self.state.dates["exam_announced"] = data.announced_on
        self.state.dates["registration_closed"] = data.closed_on
        for a in data.applicants:
            self.people[a.candidate.person_id] = a.candidate
            status = CandidateStatus.APPLICANT if a.qualified else CandidateStatus.NOT_QUALIFIED
            entry = self._new_candidate(a.candidate, status)
            entry.note = a.reason
            self.state.candidates.append(entry)
        qualified = len(self.with_status(CandidateStatus.APPLICANT))
        out = [
            self._input(
                data.actor,
                f"登记报名与资格审查：报名 {len(data.applicants)} 人，资格审查通过 {qualified} 人",
                data,
            )
        ]
        if qualified <= self.case.positions:
            out.append(
                self._close(
                    CaseStatus.NOT_APPOINTED,
                    f"资格审查通过人数不足：通过 {qualified} 人，"
                    f"拟任职数 {self.case.positions} 个；竞争性选拔的人数须多于拟任职数",
                )
            )
        return out

    def _check_scores(self, data: ExamScoresInput, expected: set[str], what: str) -> None:
        given = [s.person_id for s in data.scores]
        if len(set(given)) != len(given):
            raise RuleViolation(f"每名考生只能有一个{what}成绩", exam.RULE_SCORES)
        missing, unknown = expected - set(given), set(given) - expected
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"缺少 {names(sorted(missing))} 的{what}成绩")
            if unknown:
                parts.append(f"{names(sorted(unknown))} 不是考生，却填写了{what}成绩")
            raise RuleViolation("；".join(parts), exam.RULE_SCORES)

    def check_written_test(self, data: ExamScoresInput, today: date) -> None:
        self._require_stage(CaseStage.EXAM)
        if "registration_closed" not in self.state.dates or "written_test" in self.state.dates:
            raise RuleViolation("笔试成绩须在报名与资格审查之后登记，且只登记一次", RULE_ORDER)
        self._check_date(data.held_on, today, date_label("written_test"), "registration_closed")
        applicants = self.with_status(CandidateStatus.APPLICANT)
        check_recorder(self.state, data.actor, applicants, "record_written_test")
        expected = {c.person_id for c in applicants}
        self._check_scores(data, expected, date_label("written_test"))

    def apply_written_test(self, data: ExamScoresInput, today: date) -> list[Happening]:
        p = self.policy.exam
        self.state.dates["written_test"] = data.held_on
        scores = {s.person_id: s.score for s in data.scores}
        chosen = set(
            exam.select_for_interview(
                scores, self.case.positions, p.ratio_into_interview, p.written_pass_mark
            )
        )
        for c in self.with_status(CandidateStatus.APPLICANT):
            c.written_score = scores[c.person_id]
            if c.person_id not in chosen:
                c.status = CandidateStatus.FAILED_EXAM
                c.note = (
                    f"笔试成绩 {c.written_score} 分，低于合格线 {p.written_pass_mark} 分"
                    if c.written_score < p.written_pass_mark
                    else "笔试成绩未进入面试名额"
                )
        out = [self._input(data.actor, f"登记笔试成绩：{len(chosen)} 人进入面试", data)]
        return out + self._close_if_too_few(len(chosen))

    def _close_if_too_few(self, passed: int) -> list[Happening]:
        try:
            exam.check_enough_for_competition(passed, self.case.positions)
        except RuleViolation as e:
            return [self._close(CaseStatus.NOT_APPOINTED, e.message)]
        return []

    def check_interview(self, data: ExamScoresInput, today: date) -> None:
        self._require_stage(CaseStage.EXAM)
        if "written_test" not in self.state.dates:
            raise RuleViolation("面试成绩须在笔试成绩之后登记", RULE_ORDER)
        self._check_date(data.held_on, today, date_label("interview"), "written_test")
        applicants = self.with_status(CandidateStatus.APPLICANT)
        check_recorder(self.state, data.actor, applicants, "record_interview")
        expected = {c.person_id for c in applicants}
        self._check_scores(data, expected, date_label("interview"))

    def apply_interview(self, data: ExamScoresInput, today: date) -> list[Happening]:
        p = self.policy.exam
        self.state.dates["interview"] = data.held_on
        interview = {s.person_id: s.score for s in data.scores}
        entries = [
            (c.person_id, c.written_score or 0.0, interview[c.person_id])
            for c in self.with_status(CandidateStatus.APPLICANT)
        ]
        ranked = exam.rank(entries, p.written_weight, p.tie_rule)
        outcome = exam.select_for_inspection(
            ranked, self.case.positions, p.ratio_into_inspection, p.interview_pass_mark
        )
        by_id = {r.person_id: r for r in ranked}
        selected = set(outcome.selected)
        for c in self.with_status(CandidateStatus.APPLICANT):
            r = by_id[c.person_id]
            c.interview_score, c.total_score, c.rank = r.interview, r.total, r.rank
            if c.person_id in selected:
                c.status = CandidateStatus.IN_POOL
            else:
                c.status = CandidateStatus.FAILED_EXAM
                c.note = (
                    f"面试成绩 {r.interview} 分，低于合格线 {p.interview_pass_mark} 分"
                    if r.interview < p.interview_pass_mark
                    else f"综合排名第 {r.rank} 名，未进入考察名额"
                )
        out = [
            self._input(
                data.actor,
                f"登记面试成绩；{outcome.message}",
                data,
            )
        ]
        closing = self._close_if_too_few(len(selected))
        if closing:
            return out + closing
        return out + self.enter_inspection_phase(data.held_on)  # judged on the interview
