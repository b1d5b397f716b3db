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

from workflows.cadre_policy import CadrePolicy, cadre_problems
from workflows.rules.eligibility import (
    LOCAL_IMPACT_KINDS,
    NATIONAL_IMPACT_MONTHS,
    NATIONAL_RECOMMENDATION_VALID_MONTHS,
)
from workflows.rules.exam import TieRule
from workflows.rules.inspection import NATIONAL_TEAM_MIN_SIZE
from workflows.rules.notice import NATIONAL_MAX_SUSPENSION_MONTHS, NATIONAL_MIN_NOTICE_WORKING_DAYS
from workflows.steps import AWAITED_STEPS, EXTENSION_ROLES
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


class ExtensionPolicy(Model):
    """延期: who may extend a step's deadline, how often and by how much in all."""

    approver_roles: list[Role] = Field(min_length=1)
    max_times: int = Field(ge=1)  # extensions of one step
    max_working_days: int = Field(ge=1)  # added to one step's deadline in all


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
    # how old the reports' summary (报表汇总) may be before a view of the reports refreshes it
    report_summary_minutes: int = Field(default=5, ge=1, le=1440)
    # deadline extensions; a policy without this section (the snapshots of cases started
    # before extensions existed) allows none
    extension: ExtensionPolicy | None = None
    # capability test, rotation, double evaluation (workflows.cadre_policy); a policy without
    # it loads, and the cadre workflows refuse to start under it
    cadre: CadrePolicy | None = None

    @model_validator(mode="after")
    def _check_rules(self) -> Policy:
        problems = (
            _national_problems(self)
            + _step_problems(self.steps)
            + _extension_problems(self.extension)
            + _probation_problems(self.probation)
            + cadre_problems(self.cadre, _timing_problems)
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
            f"public_notice.working_days 为 {p.public_notice.working_days}，但全国性规定要求"
            f"至少 {NATIONAL_MIN_NOTICE_WORKING_DAYS} 个工作日（任前公示不少于五个工作日）"
        )
    months = p.suspension.max_months
    if months > NATIONAL_MAX_SUSPENSION_MONTHS:
        problems.append(
            f"suspension.max_months 为 {months}，但全国性规定最多 "
            f"{NATIONAL_MAX_SUSPENSION_MONTHS} 个月（暂缓任用不超过三个月）"
        )
    elif months < 1:
        problems.append(f"suspension.max_months 为 {months}，但暂缓任用至少为 1 个月")
    if p.inspection.team_min_size < NATIONAL_TEAM_MIN_SIZE:
        problems.append(
            f"inspection.team_min_size 为 {p.inspection.team_min_size}，但全国性规定要求"
            f"至少 {NATIONAL_TEAM_MIN_SIZE} 人（考察组不少于两人）"
        )
    valid = p.recommendation.valid_months
    if valid > NATIONAL_RECOMMENDATION_VALID_MONTHS:
        problems.append(
            f"recommendation.valid_months 为 {valid}，但全国性规定最多 "
            f"{NATIONAL_RECOMMENDATION_VALID_MONTHS} 个月（民主推荐结果一年内有效）"
        )
    elif valid < 1:
        problems.append(f"recommendation.valid_months 为 {valid}，但至少应为 1")
    if p.exam.ratio_into_inspection < 2:
        problems.append(
            f"exam.ratio_into_inspection 为 {p.exam.ratio_into_inspection}，但差额考察的"
            "考察对象须多于拟任职数，因此至少应为 2"
        )
    notice = p.investigation_notice
    if notice.max_working_days_before_inspection < notice.min_working_days_before_inspection:
        problems.append(
            "investigation_notice.max_working_days_before_inspection 为 "
            f"{notice.max_working_days_before_inspection}，小于 "
            f"min_working_days_before_inspection（{notice.min_working_days_before_inspection}）"
        )
    problems.extend(_impact_problems(p.impact_months))
    return problems


def _sanction(kind: SanctionKind) -> str:
    # the glossary stands on this module's types: read when a problem is worded
    from workflows.glossary import SANCTIONS

    return SANCTIONS[kind]


def _impact_problems(months: dict[SanctionKind, int]) -> list[str]:
    problems: list[str] = []
    for kind in LOCAL_IMPACT_KINDS:
        if kind not in months:
            problems.append(
                f"缺少 impact_months.{kind.value}：{_sanction(kind)}的影响期"
                "由本地规定，政策文件必须写明"
            )
    for kind, value in months.items():
        national = NATIONAL_IMPACT_MONTHS.get(kind)
        if national is not None and value < national:
            problems.append(
                f"impact_months.{kind.value} 为 {value}，但全国性规定"
                f"{_sanction(kind)}的影响期至少 {national} 个月"
            )
        elif value < 1:
            problems.append(f"impact_months.{kind.value} 为 {value}，但至少应为 1 个月")
    return problems


def _extension_problems(extension: ExtensionPolicy | None) -> list[str]:
    if extension is None:
        return []
    return [
        f"extension.approver_roles 中的 {role.value} 不能批准延期"
        f"（可批准延期的角色：{', '.join(sorted(r.value for r in EXTENSION_ROLES))}）"
        for role in extension.approver_roles
        if role not in EXTENSION_ROLES
    ]


def _step_problems(steps: dict[str, StepTiming]) -> list[str]:
    problems = [
        f"缺少 steps.{name}：案件的每个环节都须规定办理期限"
        for name in STEP_NAMES
        if name not in steps
    ]
    for name, timing in steps.items():
        if name not in STEP_NAMES:
            problems.append(f"steps.{name} 不是案件的环节（案件的环节有：{'、'.join(STEP_NAMES)}）")
        problems.extend(_timing_problems(f"steps.{name}", timing))
    return problems


def _timing_problems(where: str, timing: StepTiming) -> list[str]:
    problems: list[str] = []
    reminders = timing.reminders_working_days_before
    for k in reminders:
        if k < 1:
            problems.append(
                f"{where}.reminders_working_days_before 中有 {k}，但提醒至少应在期限前 "
                "1 个工作日发出"
            )
        elif k >= timing.deadline_working_days:
            problems.append(
                f"{where}.reminders_working_days_before 中有 {k}，但办理期限只有 "
                f"{timing.deadline_working_days} 个工作日，提醒的天数应小于期限"
            )
    for k in sorted({k for k in reminders if reminders.count(k) > 1}):
        problems.append(f"{where}.reminders_working_days_before 中 {k} 出现了不止一次")
    days = [rung.working_days_after for rung in timing.escalation]
    for previous, current in pairwise(days):
        if current <= previous:
            problems.append(
                f"{where}.escalation 的 working_days_after 须逐级严格递增："
                f"{current} 排在 {previous} 之后"
            )
    return problems


def _probation_problems(p: ProbationPolicy) -> list[str]:
    where = "probation"
    problems: list[str] = []
    days = p.reminder_days_before_end
    for k in days:
        if not 0 <= k <= 364:
            problems.append(
                f"{where}.reminder_days_before_end 中有 {k}，但提醒须在试用期内："
                "从届满前 364 天到届满当天（0）"
            )
    for k in sorted({k for k in days if days.count(k) > 1}):
        problems.append(f"{where}.reminder_days_before_end 中 {k} 出现了不止一次")
    for name, roles in (
        ("reminder_roles", p.reminder_roles),
        ("review_roles", p.review_roles),
        ("end_early_roles", p.end_early_roles),
        ("digest.roles", p.digest.roles),
    ):
        if not roles:
            problems.append(f"{where}.{name} 是空的：至少应写一个角色")
    problems.extend(_timing_problems(f"{where}.review", p.review))
    for role, address in p.recipients.items():
        local, at, domain = address.strip().rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in address.strip()):
            problems.append(f"{where}.recipients.{role.value} 为 {address!r}，不是有效的邮件地址")
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
        raise PolicyError([f"{source} 不是有效的 YAML：{e}"]) from e
    if not isinstance(data, dict):
        raise PolicyError([f"{source} 的最上层应为各项政策设置组成的映射（键: 值）"])
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        raise PolicyError(_render(e, source)) from e
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PolicySnapshot(policy=policy, digest=digest, source=source)


def _render(error: ValidationError, source: str) -> list[str]:
    # the glossary the messages name the fields from stands on this module's types
    from workflows import field_errors

    problems: list[str] = []
    for item in error.errors():
        if item["type"] == _POLICY_ERROR:
            problems.extend(str(item["ctx"]["problems"]).splitlines())
            continue
        where = ".".join(str(part) for part in item["loc"]) or source
        problems.append(f"{where}：{field_errors.predicate(item)}")
    return problems
