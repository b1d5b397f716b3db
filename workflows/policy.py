"""The local policy (本地政策): every figure a deployment sets, validated when it is loaded.

National rules are floors: a policy may be stricter, never looser, and a looser value is
refused with the rule it breaks. The policy is read by an activity and travels into the
workflow as a ``PolicySnapshot``, so a case keeps the policy it started with on replay and
the record shows which version (and which file content, by digest) decided each figure.
"""

from __future__ import annotations

import hashlib
from itertools import pairwise
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from workflows.rules.eligibility import (
    LOCAL_IMPACT_KINDS,
    NATIONAL_IMPACT_MONTHS,
    NATIONAL_RECOMMENDATION_VALID_MONTHS,
    SANCTION_NAMES,
)
from workflows.rules.exam import TieRule
from workflows.rules.inspection import NATIONAL_TEAM_MIN_SIZE
from workflows.rules.notice import NATIONAL_MAX_SUSPENSION_MONTHS, NATIONAL_MIN_NOTICE_WORKING_DAYS
from workflows.steps import AWAITED_STEPS
from workflows.types import EscalationRung, Model, Role, SanctionKind, StepTiming

# The human steps of a case, each with a deadline, reminders and an escalation ladder.
STEP_NAMES = AWAITED_STEPS  # the steps a case awaits, each with its timing here

_POLICY_ERROR = "policy_invalid"


class _Loader(yaml.SafeLoader):
    """Leaves date-like values as text: the policy has no dates, and PyYAML would raise a
    bare ValueError (no line, no field) on an impossible one such as 2026-13-01."""


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


class PolicyError(ValueError):
    """A policy file that cannot be used; ``problems`` lists every reason, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class ExamPolicy(Model):
    written_weight: float = Field(gt=0, lt=1)  # the interview weighs 1 - written_weight
    written_pass_mark: float = Field(ge=0, le=100)
    interview_pass_mark: float = Field(ge=0, le=100)
    ratio_into_interview: int = Field(ge=1)
    ratio_into_inspection: int  # national floor checked by Policy
    tie_rule: TieRule


class InvestigationNoticePolicy(Model):
    """考察预告: published this many working days before inspection starts."""

    min_working_days_before_inspection: int = Field(ge=1)
    max_working_days_before_inspection: int = Field(ge=1)


class InspectionPolicy(Model):
    team_min_size: int  # national floor checked by Policy


class PublicNoticePolicy(Model):
    working_days: int  # national floor checked by Policy


class SuspensionPolicy(Model):
    max_months: int  # national bounds checked by Policy


class RecommendationPolicy(Model):
    valid_months: int  # national ceiling checked by Policy


class ProbationDigestPolicy(Model):
    """The daily digest (每日待办汇总) mailed to the department by a Temporal Schedule."""

    hour: int = Field(default=8, ge=0, le=23)  # local hour (Asia/Shanghai) it runs
    days_ahead: int = Field(default=14, ge=1, le=90)  # what falls due this many days ahead
    roles: list[Role] = Field(default_factory=lambda: [Role.DEPARTMENT_HEAD, Role.SECTION_CHIEF])
    send_when_empty: bool = False  # mail "nothing due" too, or only when something is


def _default_review_timing() -> StepTiming:
    return StepTiming(
        responsible_role=Role.SECTION_CHIEF,
        deadline_working_days=10,
        reminders_working_days_before=[3],
        escalation=[
            EscalationRung(role=Role.DEPARTMENT_HEAD, working_days_after=1),
            EscalationRung(role=Role.COMMITTEE_SECRETARY, working_days_after=5),
        ],
    )


class ProbationPolicy(Model):
    """任职试用期: reminders before the year ends, the review (考核), and who hears of it.

    The year itself is national (one year from the trial appointment notice) and is not
    configurable. Every field has a default so that a policy written before probation
    existed still loads, and so do the policy snapshots recorded in running cases.
    """

    # calendar days before the last day of the year; 0 is the last day itself
    reminder_days_before_end: list[int] = Field(default_factory=lambda: [60, 30, 7, 0])
    reminder_roles: list[Role] = Field(
        default_factory=lambda: [Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD]
    )
    # the review may be recorded from this many calendar days before the last day
    review_window_days_before_end: int = Field(default=30, ge=0, le=364)
    review_roles: list[Role] = Field(default_factory=lambda: [Role.DEPARTMENT_HEAD])
    end_early_roles: list[Role] = Field(default_factory=lambda: [Role.DEPARTMENT_HEAD])
    # the review's deadline in working days after the last day, and its escalation ladder
    review: StepTiming = Field(default_factory=_default_review_timing)
    recipients: dict[Role, str] = Field(default_factory=dict)  # role -> mail address
    digest: ProbationDigestPolicy = Field(default_factory=ProbationDigestPolicy)


class Policy(Model):
    version: str = Field(min_length=1)
    exam: ExamPolicy
    investigation_notice: InvestigationNoticePolicy
    inspection: InspectionPolicy
    public_notice: PublicNoticePolicy
    suspension: SuspensionPolicy
    recommendation: RecommendationPolicy
    # Local periods, plus optional national ones made longer (never shorter).
    impact_months: dict[SanctionKind, int]
    reminder_hour: int = Field(ge=0, le=23)  # local hour (Asia/Shanghai) alarms go out
    steps: dict[str, StepTiming]
    probation: ProbationPolicy = Field(default_factory=ProbationPolicy)
    # how often the audit log's chain heads are signed (a signed checkpoint)
    audit_checkpoint_hours: int = Field(default=24, ge=1, le=168)

    @model_validator(mode="after")
    def _check_rules(self) -> Policy:
        problems = (
            _national_problems(self)
            + _step_problems(self.steps)
            + _probation_problems(self.probation)
        )
        if problems:
            raise PydanticCustomError(
                _POLICY_ERROR, "{problems}", {"problems": "\n".join(problems)}
            )
        return self

    @model_validator(mode="after")
    def _alarms_at_the_reminder_hour(self) -> Policy:
        """Every step's timing carries the hour its alarms go out (the policy's, unless the
        step sets its own): schedule_step sees the timing, never the whole policy."""
        self.steps = {name: self._at_hour(t) for name, t in self.steps.items()}
        self.probation = self.probation.model_copy(
            update={"review": self._at_hour(self.probation.review)}
        )
        return self

    def _at_hour(self, timing: StepTiming) -> StepTiming:
        if timing.reminder_hour is not None:
            return timing
        return timing.model_copy(update={"reminder_hour": self.reminder_hour})

    def impact_months_all(self) -> dict[SanctionKind, int]:
        return {**NATIONAL_IMPACT_MONTHS, **self.impact_months}

    def step(self, name: str) -> StepTiming:
        return self.steps[name]


def _national_problems(p: Policy) -> list[str]:
    problems: list[str] = []
    if p.public_notice.working_days < NATIONAL_MIN_NOTICE_WORKING_DAYS:
        problems.append(
            f"public_notice.working_days is {p.public_notice.working_days}, but the national "
            f"rule requires at least {NATIONAL_MIN_NOTICE_WORKING_DAYS} working days "
            "(任前公示不少于五个工作日)"
        )
    months = p.suspension.max_months
    if months > NATIONAL_MAX_SUSPENSION_MONTHS:
        problems.append(
            f"suspension.max_months is {months}, but the national rule allows at most "
            f"{NATIONAL_MAX_SUSPENSION_MONTHS} months (暂缓任用不超过三个月)"
        )
    elif months < 1:
        problems.append(
            f"suspension.max_months is {months}, but a suspension lasts at least 1 month"
        )
    if p.inspection.team_min_size < NATIONAL_TEAM_MIN_SIZE:
        problems.append(
            f"inspection.team_min_size is {p.inspection.team_min_size}, but the national rule "
            f"requires at least {NATIONAL_TEAM_MIN_SIZE} people (考察组不少于两人)"
        )
    valid = p.recommendation.valid_months
    if valid > NATIONAL_RECOMMENDATION_VALID_MONTHS:
        problems.append(
            f"recommendation.valid_months is {valid}, but the national rule allows at most "
            f"{NATIONAL_RECOMMENDATION_VALID_MONTHS} months (民主推荐结果一年内有效)"
        )
    elif valid < 1:
        problems.append(f"recommendation.valid_months is {valid}, but must be at least 1")
    if p.exam.ratio_into_inspection < 2:
        problems.append(
            f"exam.ratio_into_inspection is {p.exam.ratio_into_inspection}, but a competitive "
            "inspection (差额考察) needs more candidates than posts, so at least 2"
        )
    notice = p.investigation_notice
    if notice.max_working_days_before_inspection < notice.min_working_days_before_inspection:
        problems.append(
            "investigation_notice.max_working_days_before_inspection is "
            f"{notice.max_working_days_before_inspection}, below "
            f"min_working_days_before_inspection ({notice.min_working_days_before_inspection})"
        )
    problems.extend(_impact_problems(p.impact_months))
    return problems


def _impact_problems(months: dict[SanctionKind, int]) -> list[str]:
    problems: list[str] = []
    for kind in LOCAL_IMPACT_KINDS:
        if kind not in months:
            problems.append(
                f"impact_months.{kind.value} is missing: the impact period of "
                f"{SANCTION_NAMES[kind]} is a local value the policy must set"
            )
    for kind, value in months.items():
        national = NATIONAL_IMPACT_MONTHS.get(kind)
        if national is not None and value < national:
            problems.append(
                f"impact_months.{kind.value} is {value}, but the national rule requires at "
                f"least {national} months for {SANCTION_NAMES[kind]}"
            )
        elif value < 1:
            problems.append(f"impact_months.{kind.value} is {value}, but must be at least 1 month")
    return problems


def _step_problems(steps: dict[str, StepTiming]) -> list[str]:
    problems = [
        f"steps.{name} is missing: every step of a case needs a deadline"
        for name in STEP_NAMES
        if name not in steps
    ]
    for name, timing in steps.items():
        if name not in STEP_NAMES:
            problems.append(
                f"steps.{name} is not a step of a case (the steps are: {', '.join(STEP_NAMES)})"
            )
        problems.extend(_timing_problems(f"steps.{name}", timing))
    return problems


def _timing_problems(where: str, timing: StepTiming) -> list[str]:
    problems: list[str] = []
    reminders = timing.reminders_working_days_before
    for k in reminders:
        if k < 1:
            problems.append(
                f"{where}.reminders_working_days_before has {k}, but a reminder comes at "
                "least 1 working day before the deadline"
            )
        elif k >= timing.deadline_working_days:
            problems.append(
                f"{where}.reminders_working_days_before has {k}, but the deadline is "
                f"{timing.deadline_working_days} working days, so a reminder must be fewer"
            )
    for k in sorted({k for k in reminders if reminders.count(k) > 1}):
        problems.append(f"{where}.reminders_working_days_before lists {k} more than once")
    days = [rung.working_days_after for rung in timing.escalation]
    for previous, current in pairwise(days):
        if current <= previous:
            problems.append(
                f"{where}.escalation must climb in strictly increasing working_days_after: "
                f"{current} follows {previous}"
            )
    return problems


def _probation_problems(p: ProbationPolicy) -> list[str]:
    where = "probation"
    problems: list[str] = []
    days = p.reminder_days_before_end
    for k in days:
        if not 0 <= k <= 364:
            problems.append(
                f"{where}.reminder_days_before_end has {k}, but a reminder falls within the "
                "year: from 0 (the last day) to 364 days before it"
            )
    for k in sorted({k for k in days if days.count(k) > 1}):
        problems.append(f"{where}.reminder_days_before_end lists {k} more than once")
    for name, roles in (
        ("reminder_roles", p.reminder_roles),
        ("review_roles", p.review_roles),
        ("end_early_roles", p.end_early_roles),
        ("digest.roles", p.digest.roles),
    ):
        if not roles:
            problems.append(f"{where}.{name} is empty: name at least one role")
    problems.extend(_timing_problems(f"{where}.review", p.review))
    for role, address in p.recipients.items():
        local, at, domain = address.strip().rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in address.strip()):
            problems.append(
                f"{where}.recipients.{role.value} is {address!r}, which is not a mail address"
            )
    return problems


class PolicySnapshot(Model):
    """The policy a case runs under, with the digest of the exact file text it came from."""

    policy: Policy
    digest: str  # sha256 hex of the file text
    source: str


def parse_policy(text: str, source: str) -> PolicySnapshot:
    """Parse and validate a policy file's text; ``source`` names it in errors and the record."""
    try:
        data = yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except (yaml.YAMLError, ValueError) as e:
        raise PolicyError([f"{source} is not valid YAML: {e}"]) from e
    if not isinstance(data, dict):
        raise PolicyError([f"{source} must hold a mapping of policy settings at the top level"])
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        raise PolicyError(_render(e, source)) from e
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PolicySnapshot(policy=policy, digest=digest, source=source)


def _render(error: ValidationError, source: str) -> list[str]:
    problems: list[str] = []
    for item in error.errors():
        if item["type"] == _POLICY_ERROR:
            problems.extend(str(item["ctx"]["problems"]).splitlines())
            continue
        where = ".".join(str(part) for part in item["loc"]) or source
        problems.append(f"{where}: {item['msg']}")
    return problems
