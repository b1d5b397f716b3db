"""What a case waits for now (a human step or a timer), and what happens when a timer runs out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from workflows.case_book.core import CaseBookBase, Happening
from workflows.glossary import awaited, zh
from workflows.rules.notice import effect_of
from workflows.rules.working_days import end_of_day
from workflows.types import Alarm, CandidateState, CandidateStatus, CaseStage, Role

# The policy's step for deciding a suspension (暂缓任用期满决定).
SUSPENSION_DECISION = "suspension_decision"

# The recorded dates that start each human step: its deadline runs from the latest of them
# the case holds (a case brought in late runs its deadlines from its own dates).
STEP_STARTS: dict[str, tuple[str, ...]] = {
    "registration": ("opened",),
    "written_test": ("registration_closed",),
    "interview": ("written_test",),
    "pre_inspection_approval": ("opened", "interview"),
    "investigation_notice": ("opened", "interview", "last_approval"),
    "inspection_team": ("investigation_notice",),
    "inspection": ("inspection_started",),
    "higher_approval": ("inspection_concluded",),
    "vote": ("inspection_concluded", "last_approval"),
    "revote": ("last_meeting",),
    "public_notice": ("last_meeting",),
    "objection_verification": ("notice_over",),
    "appointment": ("notice_over",),
}


@dataclass(frozen=True)
class AwaitedStep:
    """What the case waits for now: a human step with a policy deadline, or a fixed moment."""

    key: str  # changes as soon as the step is done
    policy_step: str | None  # name in the policy's steps, for human steps
    responsible_role: Role
    description: str  # in Chinese, from the glossary (``glossary.AWAITED``)
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
                return self._human("registration")
            if "written_test" not in s.dates:
                return self._human("written_test")
            return self._human("interview")
        if s.stage is CaseStage.PRE_INSPECTION_APPROVAL:
            return self._human("pre_inspection_approval")
        if s.stage is CaseStage.INVESTIGATION_NOTICE:
            return self._human("investigation_notice")
        if s.stage is CaseStage.INSPECTION:
            if "inspection_started" not in s.dates:
                return self._human("inspection_team")
            return self._human("inspection")
        if s.stage is CaseStage.HIGHER_APPROVAL:
            return self._human("higher_approval")
        if s.stage is CaseStage.VOTE:
            rounds = s.dates.get("last_meeting")
            step = "revote" if rounds is not None else "vote"
            return self._human(step, suffix=str(rounds or ""))
        if s.stage is CaseStage.PUBLIC_NOTICE:
            return self._awaited_during_notice()
        return self._human("appointment")

    def _human(self, step: str, suffix: str = "") -> AwaitedStep:
        role = self.policy.steps[step].responsible_role
        key = f"{step}:{suffix}" if suffix else step
        return AwaitedStep(key, step, role, awaited(step)[0])

    def _awaited_during_notice(self) -> AwaitedStep:
        if "notice_published" not in self.state.dates:
            return self._human("public_notice")
        unverified = [o for o in self.state.objections if o.outcome is None]
        if not self._notice_over:
            return AwaitedStep(
                "notice_period",
                None,
                Role.CLERK,
                awaited("notice_period")[0],
                until=end_of_day(self._date("notice_ends")),
            )
        if unverified:
            return self._human(
                "objection_verification", suffix=",".join(o.objection_id for o in unverified)
            )
        suspended = self.with_status(CandidateStatus.SUSPENDED)
        first = min(suspended, key=lambda c: (c.suspended_until or date.max, c.person_id))
        assert first.suspended_until is not None
        # a human step (the department decides, reminded and escalated by the policy's
        # suspension_decision) with a limit it cannot pass: the national three months
        return AwaitedStep(
            f"suspension:{first.person_id}",
            SUSPENSION_DECISION,
            self.policy.steps[SUSPENSION_DECISION].responsible_role,
            f"{awaited('suspension')[0]}：{first.name}",
            until=end_of_day(first.suspended_until),
        )

    def step_started_on(self, step: AwaitedStep, today: date) -> date:
        """The day ``step`` started, from which its deadline runs: the recorded date of the
        act that opened it (``STEP_STARTS``), else ``today`` (nothing recorded, or a date the
        case does not keep, such as a suspension's decision)."""
        s = self.state
        keys = STEP_STARTS.get(step.policy_step or "", ())
        recorded = [s.dates[k] for k in keys if k in s.dates]
        if step.policy_step == SUSPENSION_DECISION:
            # from the verification that suspended the person (the first, never renewed)
            person_id = step.key.split(":", 1)[1]
            recorded = [
                o.verified_on
                for o in s.objections
                if o.person_id == person_id
                and o.verified_on is not None
                and o.outcome is not None
                and effect_of(o.outcome).suspend
            ]
            return min(min(recorded), today) if recorded else today
        if step.policy_step == "appointment":
            if any(c.suspended_until is not None for c in s.candidates):
                return today  # decided on a suspension, on a day the case does not record
            recorded += [o.verified_on for o in s.objections if o.verified_on is not None]
        return min(max(recorded), today) if recorded else today

    def step_key(self) -> str | None:
        step = self.awaited_step()
        return step.key if step else None

    def on_timer(self, key: str, today: date) -> list[Happening]:
        """A system timer ran out: the notice period ended, or a suspension hit its limit."""
        if key == "notice_period":
            self.state.dates["notice_over"] = self._date("notice_ends")
            return [
                Happening("timer", f"任前公示期于 {self._date('notice_ends')} 届满"),
                *self._after_notice(),
            ]
        if key.startswith("suspension:"):
            person = self._suspension_lapsed(key)
            return [Happening("timer", f"{person.name}：{person.note}"), *self._after_notice()]
        raise ValueError(f"unknown timer {key}")

    def on_suspension_lapse(self, key: str, told: list[Alarm]) -> list[Happening]:
        """The national limit of a suspension passed while the department, reminded and
        escalated as the policy says, decided nothing: the person is not appointed, and the
        record says so as a lapse, naming whom the case told while it waited."""
        person = self._suspension_lapsed(key)
        roles = list(dict.fromkeys(a.role for a in told))
        told_text = "、".join(zh(r) for r in roles) if roles else "无"
        lapse = Happening(
            "timer",
            f"{person.name}：{person.note}，按不予任用处理；期间已提醒或督办：{told_text}",
            payload={
                "lapse": "suspension",
                "person_id": person.person_id,
                "suspended_until": str(person.suspended_until),
                "told": [a.model_dump(mode="json") for a in told],
            },
        )
        return [lapse, *self._after_notice()]

    def _suspension_lapsed(self, key: str) -> CandidateState:
        person = self.candidate(key.split(":", 1)[1])
        person.status = CandidateStatus.NOT_APPOINTED
        person.note = (
            f"暂缓任用于 {person.suspended_until} 期满，未作出决定；"
            f"暂缓任用最长 {self.policy.suspension.max_months} 个月"
        )
        return person
