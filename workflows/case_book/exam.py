"""The exam stage of a competitive selection: registration, written test and interview."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
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


class ExamRules(CaseBookBase):
    """Registration, written test and interview scores."""

    def check_registration(self, data: RegistrationInput, today: date) -> None:
        self._require_stage(CaseStage.EXAM)
        if "registration_closed" in self.state.dates:
            raise RuleViolation("the registration is already recorded", "exam order")
        self._check_date(data.announced_on, today, "the exam announcement", "opened")
        check_not_future(data.closed_on, today, "the close of registration")
        check_not_before(
            data.closed_on, data.announced_on, "the close of registration", "the announcement"
        )
        ids = [a.candidate.person_id for a in data.applicants]
        if len(set(ids)) != len(ids):
            raise RuleViolation("each applicant may register once", "exam registration")
        for a in data.applicants:
            check_not_before(
                a.registered_on, data.announced_on, "a registration", "the announcement"
            )
            if a.registered_on > data.closed_on:
                raise RuleViolation(
                    f"{a.candidate.name} registered on {a.registered_on}, "
                    f"after registration closed on {data.closed_on}",
                    "exam registration",
                )
            if not a.qualified and not a.reason.strip():
                raise RuleViolation(
                    f"{a.candidate.name} was found not qualified: the reason must be recorded",
                    "资格审查",
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
                f"registration recorded: {len(data.applicants)} applicants, {qualified} qualified",
                data,
            )
        ]
        if qualified <= self.case.positions:
            out.append(
                self._close(
                    CaseStatus.NOT_APPOINTED,
                    f"too few qualified applicants: {qualified} for {self.case.positions} "
                    "post(s); a competitive selection needs more applicants than posts",
                )
            )
        return out

    def _check_scores(self, data: ExamScoresInput, expected: set[str], what: str) -> None:
        given = [s.person_id for s in data.scores]
        if len(set(given)) != len(given):
            raise RuleViolation(f"each candidate has one {what} score", "exam")
        missing, unknown = expected - set(given), set(given) - expected
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing for {', '.join(sorted(missing))}")
            if unknown:
                parts.append(f"given for non-candidates {', '.join(sorted(unknown))}")
            raise RuleViolation(f"{what} scores {'; '.join(parts)}", "exam")

    def check_written_test(self, data: ExamScoresInput, today: date) -> None:
        self._require_stage(CaseStage.EXAM)
        if "registration_closed" not in self.state.dates or "written_test" in self.state.dates:
            raise RuleViolation(
                "written scores come after the registration and only once", "exam order"
            )
        self._check_date(data.held_on, today, "the written test", "registration_closed")
        expected = {c.person_id for c in self.with_status(CandidateStatus.APPLICANT)}
        self._check_scores(data, expected, "written test")

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
                    f"written score {c.written_score} below the pass mark {p.written_pass_mark}"
                    if c.written_score < p.written_pass_mark
                    else "not among the best in the written test"
                )
        out = [
            self._input(
                data.actor, f"written test recorded: {len(chosen)} go on to the interview", data
            )
        ]
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
            raise RuleViolation("interview scores come after the written test", "exam order")
        self._check_date(data.held_on, today, "the interview", "written_test")
        expected = {c.person_id for c in self.with_status(CandidateStatus.APPLICANT)}
        self._check_scores(data, expected, "interview")

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
                    f"interview score {r.interview} below the pass mark {p.interview_pass_mark}"
                    if r.interview < p.interview_pass_mark
                    else f"ranked {r.rank}, outside the ratio into inspection"
                )
        out = [
            self._input(
                data.actor,
                f"interview recorded; ranking: {outcome.message}",
                data,
            )
        ]
        closing = self._close_if_too_few(len(selected))
        if closing:
            return out + closing
        return out + self.enter_inspection_phase(today)
