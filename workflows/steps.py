"""The human steps of a case (办理环节), one row each: the one home every door reads.

A row says, for one step: the workflow update that records it, its input model, the roles
that may take it, and the stages in which it is offered. The workflow's validators refuse a
role the row does not name (so a raw Temporal client, the CLI and the HTTP API meet the same
check); the HTTP API builds its routes and its permission table from the rows, the console
its forms and the stages it offers them in, the CLI its steps. The rule that decides
whether the step itself is right stays in ``workflows.rules`` and ``workflows.case_book``.

``AWAITED_STEPS`` are the steps a case waits on with a deadline (the policy's ``steps``
section gives each its responsible role, deadline, reminders and escalation ladder); a
step a person records answers one of them, and some (a revote, the verification of an
objection) are awaited without an update of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from workflows.types import (
    Actor,
    AppointmentInput,
    AssignStepInput,
    CaseStage,
    DemocraticEvaluationInput,
    ExamScoresInput,
    ExtendDeadlineInput,
    HigherApprovalInput,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Model,
    ObjectionInput,
    ObjectionVerdictInput,
    PublicNoticeInput,
    RegistrationInput,
    RelationshipInput,
    RetryInput,
    Role,
    SuspensionDecisionInput,
    VoteInput,
    WithdrawInput,
)

AWAITED_STEPS = (
    "registration",
    "written_test",
    "interview",
    "pre_inspection_approval",
    "investigation_notice",
    "inspection_team",
    "inspection",
    "higher_approval",
    "vote",
    "revote",
    "public_notice",
    "objection_verification",
    "suspension_decision",
    "appointment",
)

NOT_PERMITTED = "NotPermitted"  # the error type of a refusal by role, for every door to map


@dataclass(frozen=True)
class CaseStep:
    """One human step of a case."""

    update: str  # the workflow update that records it
    title: str  # its name in Chinese, as pages, the CLI and mail show it
    input: type[Model]
    roles: frozenset[Role]  # who may take it
    stages: frozenset[CaseStage]  # where it is offered (the rules decide whether it is taken)
    # an inspection-team member takes it only on a case whose inspection team names them
    team_only: bool = False


_CLERK = frozenset({Role.CLERK})
_TEAM = frozenset({Role.INSPECTION_TEAM})
_HEAD = frozenset({Role.DEPARTMENT_HEAD})
# who may ever extend a deadline; the policy names which of them do
EXTENSION_ROLES = frozenset({Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD})
# who may ever claim or give an awaited step (the rule narrows it to the step's own role)
ASSIGN_ROLES = frozenset(
    {
        Role.CLERK,
        Role.SECTION_CHIEF,
        Role.DEPARTMENT_HEAD,
        Role.INSPECTION_TEAM,
        Role.COMMITTEE_SECRETARY,
    }
)
# who may ever ask for more time on the awaited step (延期申请): every role that is ever
# responsible for one; ``workflows.rules.deadline_extension`` narrows it to the step's own
# role or its assignee, and the approvers are ``extend_deadline``'s row, as the policy narrows
EXTENSION_REQUEST_ROLES = ASSIGN_ROLES
_EXAM = frozenset({CaseStage.EXAM})
_INSPECTION = frozenset({CaseStage.INSPECTION})
_NOTICE = frozenset({CaseStage.PUBLIC_NOTICE})


def _steps(*rows: CaseStep) -> Mapping[str, CaseStep]:
    return MappingProxyType({row.update: row for row in rows})


CASE_STEPS: Mapping[str, CaseStep] = _steps(
    # exam (公开选拔 / 竞争上岗)
    CaseStep("record_registration", "报名与资格审查", RegistrationInput, _CLERK, _EXAM),
    CaseStep("record_written_test", "笔试成绩", ExamScoresInput, _CLERK, _EXAM),
    CaseStep("record_interview", "面试成绩", ExamScoresInput, _CLERK, _EXAM),
    # inspection: the clerk publishes the notice, names the team and concludes; the team
    # records what it found
    CaseStep(
        "record_investigation_notice",
        "发布考察预告",
        InvestigationNoticeInput,
        _CLERK,
        frozenset({CaseStage.INVESTIGATION_NOTICE}),
    ),
    CaseStep("record_inspection_team", "组建考察组", InspectionTeamInput, _CLERK, _INSPECTION),
    CaseStep(
        "record_inspection_check", "凡提四必核查", InspectionCheckInput, _TEAM, _INSPECTION, True
    ),
    CaseStep(
        "record_democratic_evaluation",
        "民主测评",
        DemocraticEvaluationInput,
        _TEAM,
        _INSPECTION,
        True,
    ),
    CaseStep(
        "record_inspection_report", "考察报告", InspectionReportInput, _TEAM, _INSPECTION, True
    ),
    CaseStep(
        "conclude_inspection", "考察结论与提名", InspectionConclusionInput, _CLERK, _INSPECTION
    ),
    # decisions
    CaseStep(
        "record_higher_approval",
        "上级审批结果",
        HigherApprovalInput,
        _HEAD,
        frozenset({CaseStage.PRE_INSPECTION_APPROVAL, CaseStage.HIGHER_APPROVAL}),
    ),
    CaseStep(
        "record_vote",
        "常委会票决",
        VoteInput,
        frozenset({Role.COMMITTEE_SECRETARY}),
        frozenset({CaseStage.VOTE}),
    ),
    CaseStep("decide_suspension", "暂缓任用期满决定", SuspensionDecisionInput, _HEAD, _NOTICE),
    # public notice and appointment; the public board files objections as the system
    CaseStep("record_public_notice", "发布任前公示", PublicNoticeInput, _CLERK, _NOTICE),
    CaseStep(
        "record_objection",
        "登记公示期间反映",
        ObjectionInput,
        frozenset({Role.CLERK, Role.SYSTEM}),
        frozenset({CaseStage.PUBLIC_NOTICE, CaseStage.APPOINTMENT}),
    ),
    CaseStep("record_objection_verdict", "反映核查结果", ObjectionVerdictInput, _CLERK, _NOTICE),
    CaseStep(
        "record_appointment",
        "任职通知与谈话",
        AppointmentInput,
        _CLERK,
        frozenset({CaseStage.APPOINTMENT}),
    ),
    # any time
    # a kinship a cadre reports or a team member, a committee member or a clerk declares
    # (回避): the clerks record it, the committee's secretary one declared at a meeting
    CaseStep(
        "declare_relationship",
        "申报亲属关系",
        RelationshipInput,
        frozenset({Role.CLERK, Role.SECTION_CHIEF, Role.COMMITTEE_SECRETARY}),
        frozenset(CaseStage) - {CaseStage.CLOSED},
    ),
    CaseStep(
        "withdraw",
        "撤回案件",
        WithdrawInput,
        frozenset({Role.CLERK, Role.DEPARTMENT_HEAD}),
        frozenset(CaseStage) - {CaseStage.CLOSED},
    ),
    # 延期: the leadership may give the awaited step more time; the policy narrows who
    # (``extension.approver_roles``, checked to lie within these roles when it is loaded)
    CaseStep(
        "extend_deadline",
        "延长办理期限",
        ExtendDeadlineInput,
        EXTENSION_ROLES,
        frozenset(CaseStage) - {CaseStage.CLOSED},
    ),
    # 认领/放弃/指派 of the awaited step: every role that is ever responsible for one, and
    # the leadership; ``workflows.rules.assignment`` decides who may give it to whom
    CaseStep(
        "assign_step",
        "认领或指派待办事项",
        AssignStepInput,
        ASSIGN_ROLES,
        frozenset(CaseStage) - {CaseStage.CLOSED},
    ),
    CaseStep(
        "retry_blocked",
        "重新尝试（日历数据补齐后）",
        RetryInput,
        frozenset({Role.ADMINISTRATOR}),
        frozenset(CaseStage) - {CaseStage.CLOSED},
    ),
)


def role_refusal(update: str, actor: Actor, inspection_team: Sequence[str]) -> str | None:
    """Why ``actor`` may not take step ``update`` on a case whose inspection team is
    ``inspection_team``; None when they may."""
    # imported here: the glossary takes the steps' titles from this module
    from workflows.glossary import zh

    step = CASE_STEPS[update]
    if actor.role not in step.roles:
        allowed = "、".join(zh(r) for r in sorted(step.roles))
        return f"「{step.title}」不由{zh(actor.role)}办理（办理人：{allowed}）"
    if step.team_only and actor.role is Role.INSPECTION_TEAM:
        if actor.name not in inspection_team:
            return f"「{step.title}」：{actor.name}不是本案件考察组成员"
    return None
