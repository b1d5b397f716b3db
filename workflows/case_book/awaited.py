"""What a case waits for now (a human step or a timer), and what happens when a timer runs out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from workflows.case_book.core import CaseBookBase, Happening
from workflows.rules.working_days import end_of_day
from workflows.types import CandidateStatus, CaseStage, Role


@dataclass(frozen=True)
class AwaitedStep:
    """What the case waits for now: a human step with a policy deadline, or a fixed moment."""

    key: str  # changes as soon as the step is done
    policy_step: str | None  # name in the policy's steps, for human steps
    responsible_role: Role
    description: str
    until: datetime | None = None  # a system timer (notice period, suspension limit)


class AwaitedSteps(CaseBookBase):
    """The awaited step, derived from the state, and the system timers."""

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
