"""The state of one appointment case and every rule that changes it (pure, no Temporal).

``CaseBook`` owns the case: the workflow asks it which step is awaited, checks each human
input with ``check_*`` (the update validators) and applies it with ``apply_*`` (the update
handlers). Each ``apply_*`` returns the ``Happening`` list the workflow records. Nothing here
reads a clock: "today" and computed calendar dates are passed in, so the same inputs always
give the same case, in tests and on replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflows.policy import Policy, PolicySnapshot
from workflows.rules import eligibility, exam, inspection, notice, vote
from workflows.rules.dates import check_not_before, check_not_future
from workflows.rules.errors import RuleViolation
from workflows.rules.working_days import end_of_day
from workflows.types import (
    EXAM_METHODS,
    Actor,
    AppointmentInput,
    Candidate,
    CandidateState,
    CandidateStatus,
    CaseInput,
    CaseRow,
    CaseStage,
    CaseState,
    CaseStatus,
    DemocraticEvaluationInput,
    ExamScoresInput,
    HigherApprovalInput,
    InspectionCheck,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    NoticeKind,
    ObjectionInput,
    ObjectionState,
    ObjectionVerdictInput,
    PublicNoticeInput,
    PublicNoticeView,
    PublishedPerson,
    RegistrationInput,
    Role,
    SelectionMethod,
    SuspensionDecisionInput,
    VoteInput,
    VoteResult,
    WithdrawInput,
)

SYSTEM_ACTOR = Actor(name="system", role=Role.SYSTEM)

# Statuses of a candidate who was on the pre-appointment notice and is not yet appointed.
ON_OR_AFTER_NOTICE = (
    CandidateStatus.ON_NOTICE,
    CandidateStatus.TO_APPOINT,
    CandidateStatus.SUSPENDED,
    CandidateStatus.NOT_APPOINTED,
)

# The outside events a case records (``CaseState.dates``), as a clerk would name them.
DATE_LABELS = {
    "opened": "the case's opening",
    "exam_announced": "the exam announcement",
    "registration_closed": "the close of registration",
    "written_test": "the written test",
    "interview": "the interview",
    "last_approval": "the higher level's approval",
    "investigation_notice": "the investigation notice",
    "inspection_started": "the start of inspection",
    "inspection_concluded": "the inspection's conclusion",
    "last_meeting": "the last committee meeting",
    "notice_published": "the pre-appointment notice",
    "notice_ends": "the end of the pre-appointment notice",
}


def check_case_input(case: CaseInput, today: date, recommendation_valid_months: int) -> None:
    """Refuse a case that cannot start; called by the starter and again by the workflow."""
    ids = [c.person_id for c in case.candidates]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuleViolation(
            f"candidate ids must be unique; repeated: {', '.join(duplicates)}", "case file"
        )
    if case.opened_on is not None:
        check_not_future(case.opened_on, today, "the case's opening")
    if case.method in EXAM_METHODS:
        if case.candidates:
            raise RuleViolation(
                f"a case by {case.method.value} takes its candidates from the exam's "
                "registration; the case file must not list candidates",
                "selection method",
            )
        return
    if case.recommendation is None:
        raise RuleViolation(
            "a regular appointment needs the democratic recommendation (民主推荐) "
            "its candidates came from, with its date",
            "条例: 民主推荐",
        )
    if not case.candidates:
        raise RuleViolation("a regular appointment needs at least one candidate", "case file")
    check_not_future(case.recommendation.held_on, today, "the democratic recommendation")
    # stale when the case opens (a case brought in later is judged on its own dates); the
    # vote checks the year again against the meeting's date
    eligibility.check_recommendation_valid(
        case.recommendation.held_on, case.opened_on or today, recommendation_valid_months
    )


@dataclass(frozen=True)
class Happening:
    """Something to record in the case history."""

    kind: str  # input, transition, closed, ...
    summary: str
    actor: Actor = field(default_factory=lambda: SYSTEM_ACTOR)
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AwaitedStep:
    """What the case waits for now: a human step with a policy deadline, or a fixed moment."""

    key: str  # changes as soon as the step is done
    policy_step: str | None  # name in the policy's steps, for human steps
    responsible_role: Role
    description: str
    until: datetime | None = None  # a system timer (notice period, suspension limit)


class CaseBook:
    """One case: its state (``self.state``), the people in it and the rules."""

    def __init__(self, case: CaseInput, snapshot: PolicySnapshot, today: date) -> None:
        self.case = case
        self.policy: Policy = snapshot.policy
        self.people: dict[str, Candidate] = {c.person_id: c for c in case.candidates}
        opened_on = case.opened_on or today
        regular = case.method is SelectionMethod.REGULAR_APPOINTMENT
        self.state = CaseState(
            case_id=case.case_id,
            unit=case.unit,
            post=case.post,
            positions=case.positions,
            method=case.method,
            stage=CaseStage.INVESTIGATION_NOTICE if regular else CaseStage.EXAM,
            status=CaseStatus.ACTIVE,
            probation_required=case.probation_required,
            economic_audit_required=case.economic_audit_required,
            policy_version=self.policy.version,
            policy_digest=snapshot.digest,
            opened_on=opened_on,
            candidates=[self._new_candidate(c, CandidateStatus.IN_POOL) for c in case.candidates],
            dates={"opened": opened_on},
        )

    # ------------------------------------------------------------------ the public board

    def public_notice(self) -> PublicNoticeView | None:
        """The notice this case has before the public now, if any: the investigation notice
        (考察预告) while its people are inspected, the pre-appointment notice (任前公示) from
        its publication until the case closes. Only the published fields are shown."""
        if not self.active:
            return None
        dates = self.state.dates
        if self.state.stage in (CaseStage.PUBLIC_NOTICE, CaseStage.APPOINTMENT):
            if "notice_published" not in dates:
                return None
            kind, published_on = NoticeKind.PRE_APPOINTMENT, dates["notice_published"]
            ends_on = dates.get("notice_ends")
            shown: tuple[CandidateStatus, ...] = (*ON_OR_AFTER_NOTICE, CandidateStatus.APPOINTED)
        elif self.state.stage is CaseStage.INSPECTION and "investigation_notice" in dates:
            kind, published_on = NoticeKind.INVESTIGATION, dates["investigation_notice"]
            ends_on = dates.get("inspection_concluded")
            shown = (CandidateStatus.IN_POOL, CandidateStatus.INSPECTED)
        else:
            return None
        return PublicNoticeView(
            case_id=self.case.case_id,
            unit=self.case.unit,
            proposed_post=self.case.post,
            kind=kind,
            published_on=published_on,
            ends_on=ends_on,
            people=[self._published(c.person_id) for c in self.with_status(*shown)],
        )

    def _published(self, person_id: str) -> PublishedPerson:
        p = self.people[person_id]
        return PublishedPerson(
            person_id=p.person_id,
            name=p.name,
            sex=p.sex,
            ethnicity=p.ethnicity,
            birth_date=p.birth_date,
            party_member=p.party_member,
            education=p.education,
            work_started_on=p.work_started_on,
            current_post=p.current_post,
            short_cv=p.short_cv,
            exceptional_reason=p.exceptional.reason if p.exceptional else "",
        )

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _new_candidate(c: Candidate, status: CandidateStatus) -> CandidateState:
        return CandidateState(
            person_id=c.person_id,
            name=c.name,
            status=status,
            exceptional=c.exceptional is not None,
            needs_approval_before_inspection=eligibility.needs_approval_before_inspection(c),
        )

    @property
    def active(self) -> bool:
        return self.state.status is CaseStatus.ACTIVE

    def candidate(self, person_id: str) -> CandidateState:
        for c in self.state.candidates:
            if c.person_id == person_id:
                return c
        raise RuleViolation(f"{person_id} is not a candidate of case {self.case.case_id}", "case")

    def with_status(self, *statuses: CandidateStatus) -> list[CandidateState]:
        return [c for c in self.state.candidates if c.status in statuses]

    def _require_stage(self, *stages: CaseStage) -> None:
        if not self.active:
            raise RuleViolation(
                f"case {self.case.case_id} is closed ({self.state.status.value})", "case"
            )
        if self.state.stage not in stages:
            wanted = " or ".join(s.value for s in stages)
            raise RuleViolation(
                f"case {self.case.case_id} is at stage {self.state.stage.value}; "
                f"this step belongs to stage {wanted}",
                "stage order",
            )

    def _date(self, key: str) -> date:
        return self.state.dates[key]

    def _check_date(self, d: date, today: date, what: str, after_key: str) -> None:
        check_not_future(d, today, what)
        check_not_before(d, self._date(after_key), what, DATE_LABELS[after_key])

    def _move(self, stage: CaseStage, why: str) -> Happening:
        before = self.state.stage
        self.state.stage = stage
        return Happening(
            "transition",
            f"stage {before.value} → {stage.value}: {why}",
            payload={"from": before.value, "to": stage.value},
        )

    def _close(self, status: CaseStatus, reason: str, actor: Actor = SYSTEM_ACTOR) -> Happening:
        before = self.state.stage
        self.state.stage = CaseStage.CLOSED
        self.state.status = status
        self.state.outcome_reason = reason
        self.state.step = None
        return Happening(
            "closed",
            f"case closed as {status.value}: {reason}",
            actor,
            {"from": before.value, "status": status.value, "reason": reason},
        )

    @staticmethod
    def _input(actor: Actor, summary: str, data: Any) -> Happening:
        payload = data.model_dump(mode="json", exclude={"actor"})
        return Happening("input", summary, actor, payload)

    def case_row(self, next_deadline: datetime | None, overdue: bool) -> CaseRow:
        s = self.state
        return CaseRow(
            unit=s.unit,
            post=s.post,
            method=s.method,
            stage=s.stage,
            status=s.status,
            outcome_reason=s.outcome_reason,
            next_deadline=next_deadline,
            overdue=overdue,
            policy_version=s.policy_version,
            probation_required=s.probation_required,
            opened_on=s.opened_on,
        )

    # ------------------------------------------------------------------ what is awaited

    def awaited_step(self) -> AwaitedStep | None:
        """The step the case waits on, derived from its state; None once closed."""
        s = self.state
        if not self.active:
            return None
        if s.stage is CaseStage.EXAM:
            if "registration_closed" not in s.dates:
                return self._human("registration", "registration and eligibility check")
            if "written_test" not in s.dates:
                return self._human("written_test", "written test scores")
            return self._human("interview", "interview scores")
        if s.stage is CaseStage.PRE_INSPECTION_APPROVAL:
            return self._human("pre_inspection_approval", "higher-level approval before inspection")
        if s.stage is CaseStage.INVESTIGATION_NOTICE:
            return self._human("investigation_notice", "investigation notice (考察预告)")
        if s.stage is CaseStage.INSPECTION:
            if "inspection_started" not in s.dates:
                return self._human("inspection_team", "inspection team and start")
            return self._human("inspection", "inspection and its conclusion")
        if s.stage is CaseStage.HIGHER_APPROVAL:
            return self._human("higher_approval", "higher-level approval before the vote")
        if s.stage is CaseStage.VOTE:
            rounds = s.dates.get("last_meeting")
            step = "revote" if rounds is not None else "vote"
            return self._human(step, "standing-committee vote", suffix=str(rounds or ""))
        if s.stage is CaseStage.PUBLIC_NOTICE:
            return self._awaited_during_notice()
        return self._human("appointment", "appointment notice and talk")

    def _human(self, step: str, description: str, suffix: str = "") -> AwaitedStep:
        role = self.policy.steps[step].responsible_role
        return AwaitedStep(f"{step}:{suffix}" if suffix else step, step, role, description)

    def _awaited_during_notice(self) -> AwaitedStep:
        if "notice_published" not in self.state.dates:
            return self._human("public_notice", "publication of the pre-appointment notice")
        unverified = [o for o in self.state.objections if o.outcome is None]
        if not self._notice_over:
            return AwaitedStep(
                "notice_period",
                None,
                Role.CLERK,
                "pre-appointment notice period",
                until=end_of_day(self._date("notice_ends")),
            )
        if unverified:
            return self._human(
                "objection_verification",
                "verification of objections",
                suffix=",".join(o.objection_id for o in unverified),
            )
        suspended = self.with_status(CandidateStatus.SUSPENDED)
        first = min(suspended, key=lambda c: (c.suspended_until or date.max, c.person_id))
        assert first.suspended_until is not None
        return AwaitedStep(
            f"suspension:{first.person_id}",
            None,
            Role.DEPARTMENT_HEAD,
            f"decision on the suspended appointment of {first.name}",
            until=end_of_day(first.suspended_until),
        )

    @property
    def _notice_over(self) -> bool:
        return "notice_over" in self.state.dates

    def step_key(self) -> str | None:
        step = self.awaited_step()
        return step.key if step else None

    def on_timer(self, key: str, today: date) -> list[Happening]:
        """A system timer ran out: the notice period ended, or a suspension hit its limit."""
        if key == "notice_period":
            self.state.dates["notice_over"] = self._date("notice_ends")
            return [
                Happening("timer", f"the notice period ended on {self._date('notice_ends')}"),
                *self._after_notice(),
            ]
        if key.startswith("suspension:"):
            person = self.candidate(key.split(":", 1)[1])
            person.status = CandidateStatus.NOT_APPOINTED
            person.note = (
                f"the suspension ran out on {person.suspended_until} without a decision; "
                f"a suspension may last at most {self.policy.suspension.max_months} months"
            )
            return [Happening("timer", f"{person.name}: {person.note}"), *self._after_notice()]
        raise ValueError(f"unknown timer {key}")

    # ------------------------------------------------------------------ withdrawal

    def check_withdraw(self, data: WithdrawInput, today: date) -> None:
        if not self.active:
            raise RuleViolation(
                f"case {self.case.case_id} is already closed ({self.state.status.value})", "case"
            )

    def apply_withdraw(self, data: WithdrawInput, today: date) -> list[Happening]:
        stage = self.state.stage.value
        return [
            self._input(data.actor, f"withdrawn at stage {stage}: {data.reason}", data),
            self._close(CaseStatus.WITHDRAWN, data.reason, data.actor),
        ]

    # ------------------------------------------------------------------ exam

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

    # ------------------------------------------------------------------ higher-level approval

    def _awaiting_approval(self) -> list[CandidateState]:
        if self.state.stage is CaseStage.PRE_INSPECTION_APPROVAL:
            pool = self.with_status(CandidateStatus.IN_POOL)
            return [c for c in pool if c.needs_approval_before_inspection and c.approval is None]
        return [
            c
            for c in self.with_status(CandidateStatus.PROPOSED)
            if c.exceptional and c.approval is None
        ]

    def check_higher_approval(self, data: HigherApprovalInput, today: date) -> None:
        self._require_stage(CaseStage.PRE_INSPECTION_APPROVAL, CaseStage.HIGHER_APPROVAL)
        c = self.candidate(data.person_id)
        if c not in self._awaiting_approval():
            raise RuleViolation(
                f"no higher-level approval is awaited for {c.name}", "破格提拔 approval"
            )
        if self.state.stage is CaseStage.HIGHER_APPROVAL:
            after = "inspection_concluded"
        else:
            after = "interview" if "interview" in self.state.dates else "opened"
        self._check_date(data.replied_on, today, "the higher level's reply", after)

    def apply_higher_approval(self, data: HigherApprovalInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.approval = data.approved
        verdict = "approved" if data.approved else "refused"
        if not data.approved:
            c.status = CandidateStatus.APPROVAL_REFUSED
            c.note = f"the higher-level organization department refused ({data.reference})"
        self.state.dates["last_approval"] = max(
            data.replied_on, self.state.dates.get("last_approval", data.replied_on)
        )
        out = [
            self._input(
                data.actor,
                f"higher level {verdict} the exceptional promotion of {c.name} ({data.reference})",
                data,
            )
        ]
        if self._awaiting_approval():
            return out
        if self.state.stage is CaseStage.PRE_INSPECTION_APPROVAL:
            if len(self.with_status(CandidateStatus.IN_POOL)) < self.case.positions:
                return [
                    *out,
                    self._close(
                        CaseStatus.NOT_APPOINTED, "too few candidates left after approvals"
                    ),
                ]
            return [*out, self._move(CaseStage.INVESTIGATION_NOTICE, "approvals received")]
        if not self.with_status(CandidateStatus.PROPOSED):
            return [
                *out,
                self._close(CaseStatus.NOT_APPOINTED, "the higher level approved no candidate"),
            ]
        return [*out, self._move(CaseStage.VOTE, "approvals received")]

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

    # ------------------------------------------------------------------ vote

    def check_vote(self, data: VoteInput, today: date) -> None:
        self._require_stage(CaseStage.VOTE)
        m = data.meeting
        after = "last_meeting" if "last_meeting" in self.state.dates else "inspection_concluded"
        self._check_date(m.held_on, today, "the meeting", after)
        if "last_approval" in self.state.dates:
            check_not_before(
                m.held_on, self._date("last_approval"), "the meeting", DATE_LABELS["last_approval"]
            )
        vote.check_quorum(m.members, m.present)
        if self.case.recommendation is not None:
            eligibility.check_recommendation_valid(
                self.case.recommendation.held_on, m.held_on, self.policy.recommendation.valid_months
            )
        if not data.items:
            raise RuleViolation("a vote record needs at least one item", "逐一表决")
        seen: set[str] = set()
        for item in data.items:
            c = self.candidate(item.person_id)
            if item.person_id in seen:
                raise RuleViolation(f"{c.name} appears twice; each item once", "逐一表决")
            seen.add(item.person_id)
            if c.status not in (CandidateStatus.PROPOSED, CandidateStatus.DEFERRED):
                raise RuleViolation(
                    f"{c.name} is not before the committee ({c.status.value})", "讨论决定"
                )
            if c.exceptional and c.approval is not True:
                raise RuleViolation(
                    f"the exceptional promotion of {c.name} has no approval from the higher-level "
                    "organization department; it cannot go to the vote",
                    "破格提拔: approval before the vote",
                )
            vote.decide_item(m, item)

    def apply_vote(self, data: VoteInput, today: date) -> list[Happening]:
        m = data.meeting
        self.state.dates["last_meeting"] = m.held_on
        results = []
        for item in data.items:
            c = self.candidate(item.person_id)
            result = vote.decide_item(m, item)
            c.vote = result
            c.status = {
                VoteResult.PASSED: CandidateStatus.ON_NOTICE,
                VoteResult.FAILED: CandidateStatus.VOTE_FAILED,
                VoteResult.DEFERRED: CandidateStatus.DEFERRED,
            }[result]
            c.note = (
                f"deferred: {item.deferred_reason}"
                if result is VoteResult.DEFERRED
                else vote.describe_result(m, item, result)
            )
            results.append(f"{c.name}: {c.note}")
        out = [
            self._input(
                data.actor,
                f"meeting {m.meeting_id} on {m.held_on} ({m.present} of {m.members} present, "
                f"{m.method.value}): " + "; ".join(results),
                data,
            )
        ]
        if self.with_status(CandidateStatus.PROPOSED, CandidateStatus.DEFERRED):
            return out
        if self.with_status(CandidateStatus.ON_NOTICE):
            return [*out, self._move(CaseStage.PUBLIC_NOTICE, "the committee decided")]
        return [
            *out,
            self._close(CaseStatus.NOT_APPOINTED, "the standing committee passed no candidate"),
        ]

    # ------------------------------------------------------------------ public notice

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
        o = self._objection(data.objection_id)
        if o.outcome is not None:
            raise RuleViolation(f"objection {o.objection_id} is already verified", "任前公示")
        check_not_future(data.verified_on, today, "the verification")
        check_not_before(data.verified_on, o.received_on, "the verification", "the objection")

    def apply_objection_verdict(self, data: ObjectionVerdictInput, today: date) -> list[Happening]:
        o = self._objection(data.objection_id)
        o.outcome, o.verified_on = data.outcome, data.verified_on
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
        out = [
            self._input(
                data.actor,
                f"objection {o.objection_id} about {c.name} verified: {data.outcome.value}",
                data,
            )
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

    # ------------------------------------------------------------------ appointment

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
