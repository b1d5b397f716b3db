"""The living glossary (术语表): the Chinese name of every English term a person reads.

Pages, the CLI, mail and the workflows' own letters take their names from here, and only
from here (``tests/test_glossary_home.py`` checks that no other module names a stage or a
role). Every enum value shown has a name; ``tests/web/test_labels.py`` checks that none is
missing, so a new stage or role cannot reach a reader untranslated. Steps take their names
from the step table (``workflows.steps``). A dossier keeps the names it was written with:
it reads the frozen, versioned glossary of ``audit.glossary``, never this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from workflows.cadre_enums import MoveStatus, RemovalMeasure, RemovalStatus, RetestStatus
from workflows.probation_types import (
    DigestItemKind,
    ProbationStatus,
    ReviewOutcome,
    ReviewStatus,
)
from workflows.register_types import (
    AssessmentGrade,
    AssessmentKind,
    RegisterSection,
    RotationDecision,
)
from workflows.rules.cadre_capability import HandlingOption
from workflows.rules.cadre_capability import Outcome as CapabilityOutcome
from workflows.steps import CASE_STEPS
from workflows.types import (
    CandidateStatus,
    CaseStage,
    CaseStatus,
    ChainKind,
    ExtensionDecision,
    InspectionCheck,
    NoticeKind,
    ObjectionOutcome,
    RelationshipKind,
    Role,
    SanctionKind,
    SelectionMethod,
    VoteMethod,
    VoteResult,
)

STAGES = MappingProxyType(
    {
        CaseStage.EXAM: "考试",
        CaseStage.PRE_INSPECTION_APPROVAL: "考察前报批",
        CaseStage.INVESTIGATION_NOTICE: "考察预告",
        CaseStage.INSPECTION: "差额考察",
        CaseStage.HIGHER_APPROVAL: "上级审批",
        CaseStage.VOTE: "常委会票决",
        CaseStage.PUBLIC_NOTICE: "任前公示",
        CaseStage.APPOINTMENT: "任职",
        CaseStage.CLOSED: "已结案",
    }
)

STATUSES = MappingProxyType(
    {
        CaseStatus.ACTIVE: "进行中",
        CaseStatus.APPOINTED: "已任职",
        CaseStatus.NOT_APPOINTED: "未任用",
        CaseStatus.WITHDRAWN: "已撤回",
    }
)

# What each chain of the case kind records (``cases.chain``); the audit chains that are not
# appointment cases by what they record, their listing rows' reason too (``cadre_records``).
CHAIN_KINDS = MappingProxyType(
    {
        ChainKind.APPOINTMENT: "干部选拔任用案件",
        ChainKind.CADRE_REGISTER: "干部名册及交流决定",
        ChainKind.CAPABILITY_CAMPAIGN: "能力测试",
        ChainKind.CAPABILITY_RETEST: "能力测试补测与组织处理",
        ChainKind.DOUBLE_EVALUATION: "双重考核",
        ChainKind.REMOVAL: "双重考核降免职",
        ChainKind.ROTATION_BATCH: "交流批次",
    }
)

ROLES = MappingProxyType(
    {
        Role.CLERK: "干部科工作人员",
        Role.SECTION_CHIEF: "科长",
        Role.DEPARTMENT_HEAD: "部领导",
        Role.INSPECTION_TEAM: "考察组成员",
        Role.COMMITTEE_SECRETARY: "常委会秘书",
        Role.AUDITOR: "审计人员",
        Role.ADMINISTRATOR: "系统管理员",
        Role.SYSTEM: "系统",
    }
)

METHODS = MappingProxyType(
    {
        SelectionMethod.OPEN_SELECTION: "公开选拔",
        SelectionMethod.COMPETITIVE_APPOINTMENT: "竞争上岗",
        SelectionMethod.REGULAR_APPOINTMENT: "民主推荐",
    }
)

CANDIDATE_STATUSES = MappingProxyType(
    {
        CandidateStatus.APPLICANT: "已报名",
        CandidateStatus.NOT_QUALIFIED: "资格审查未通过",
        CandidateStatus.FAILED_EXAM: "考试未通过",
        CandidateStatus.IN_POOL: "考察对象",
        CandidateStatus.INELIGIBLE: "不符合任职条件",
        CandidateStatus.APPROVAL_REFUSED: "上级未批准",
        CandidateStatus.INSPECTED: "已考察",
        CandidateStatus.NOT_PROPOSED: "未提名",
        CandidateStatus.PROPOSED: "提交常委会",
        CandidateStatus.DEFERRED: "暂缓表决",
        CandidateStatus.VOTE_FAILED: "票决未通过",
        CandidateStatus.ON_NOTICE: "公示中",
        CandidateStatus.SUSPENDED: "暂缓任用",
        CandidateStatus.NOT_APPOINTED: "不予任用",
        CandidateStatus.TO_APPOINT: "待任职",
        CandidateStatus.APPOINTED: "已任职",
    }
)

CHECKS = MappingProxyType(
    {
        InspectionCheck.PERSONNEL_FILE: "干部人事档案",
        InspectionCheck.PERSONAL_MATTERS_REPORT: "个人有关事项报告",
        InspectionCheck.DISCIPLINE_OPINION: "纪检监察机关意见",
        InspectionCheck.PETITIONS: "信访举报",
        InspectionCheck.ECONOMIC_AUDIT: "经济责任审计",
    }
)

VOTE_METHODS = MappingProxyType(
    {
        VoteMethod.ORAL: "口头表决",
        VoteMethod.SHOW_OF_HANDS: "举手表决",
        VoteMethod.SECRET_BALLOT: "无记名投票",
    }
)

VOTE_RESULTS = MappingProxyType(
    {VoteResult.PASSED: "通过", VoteResult.FAILED: "未通过", VoteResult.DEFERRED: "暂缓表决"}
)

OBJECTION_OUTCOMES = MappingProxyType(
    {
        ObjectionOutcome.NO_PROBLEM: "未发现问题，任用",
        ObjectionOutcome.MINOR_SHORTCOMINGS: "有一般性问题，任用并提醒",
        ObjectionOutcome.SERIOUS_CONFIRMED: "严重问题属实，不予任用",
        ObjectionOutcome.SERIOUS_UNVERIFIABLE: "严重问题一时难以查实，暂缓任用",
    }
)

PROBATION_STATUSES = MappingProxyType(
    {
        ProbationStatus.ON_PROBATION: "试用中",
        ProbationStatus.FORMALLY_APPOINTED: "正式任职",
        ProbationStatus.REMOVED: "免去试任职务",
        ProbationStatus.ENDED_EARLY: "提前结束试用期",
    }
)

REVIEW_STATUSES = MappingProxyType(
    {
        ReviewStatus.PENDING: "待考核",
        ReviewStatus.COMPETENT: "胜任",
        ReviewStatus.NOT_COMPETENT: "不胜任",
        ReviewStatus.NOT_HELD: "未考核（提前结束）",
    }
)

REVIEW_OUTCOMES = MappingProxyType(
    {ReviewOutcome.COMPETENT: "胜任", ReviewOutcome.NOT_COMPETENT: "不胜任"}
)

DIGEST_KINDS = MappingProxyType(
    {
        DigestItemKind.CASE_OVERDUE: "案件环节已逾期",
        DigestItemKind.CASE_DUE: "案件环节即将到期",
        DigestItemKind.PROBATION_ENDING: "试用期即将届满",
        DigestItemKind.REVIEW_DUE: "试用期考核即将到期",
        DigestItemKind.REVIEW_OVERDUE: "试用期考核已逾期",
        DigestItemKind.RETEST_OPENING: "能力测试补测即将开始",
        DigestItemKind.CADRE_STEP_DUE: "补测或组织处理待办",
        DigestItemKind.CADRE_STEP_OVERDUE: "补测或组织处理已逾期",
        DigestItemKind.ROTATION_DUE: "干部交流待决定",
        DigestItemKind.ROTATION_MOVE_DUE: "干部交流待办",
        DigestItemKind.ROTATION_MOVE_OVERDUE: "干部交流已逾期",
        DigestItemKind.REMOVAL_VOTE_DUE: "降免职待常委会表决",
        DigestItemKind.REMOVAL_VOTE_OVERDUE: "降免职表决已逾期",
    }
)

# Sanctions and the like, whose impact period (影响期) bars a promotion.
SANCTIONS = MappingProxyType(
    {
        SanctionKind.PARTY_WARNING: "党内警告",
        SanctionKind.PARTY_SERIOUS_WARNING: "党内严重警告",
        SanctionKind.PARTY_POST_REMOVAL: "撤销党内职务",
        SanctionKind.PARTY_PROBATION: "留党察看",
        SanctionKind.STATE_WARNING: "政务警告",
        SanctionKind.STATE_DEMERIT: "记过",
        SanctionKind.STATE_MAJOR_DEMERIT: "记大过",
        SanctionKind.STATE_DEMOTION: "降级",
        SanctionKind.STATE_DISMISSAL: "撤职",
        SanctionKind.ACCOUNTABILITY_REMOVAL: "问责（引咎辞职、责令辞职或免职）",
        SanctionKind.ADMONISHMENT: "诫勉",
        SanctionKind.ORGANIZATIONAL_HANDLING: "组织处理",
    }
)

# The kinships for which a person withdraws from a candidate's matters (回避).
EXTENSION_DECISIONS = MappingProxyType(
    {
        ExtensionDecision.APPROVED: "已批准",
        ExtensionDecision.REFUSED: "未批准",
        ExtensionDecision.WITHDRAWN: "已撤回",
        ExtensionDecision.LAPSED: "已作废",
    }
)

RELATIONSHIP_KINDS = MappingProxyType(
    {
        RelationshipKind.SPOUSE: "夫妻关系",
        RelationshipKind.LINEAL: "直系血亲关系",
        RelationshipKind.COLLATERAL: "三代以内旁系血亲关系",
        RelationshipKind.CLOSE_IN_LAW: "近姻亲关系",
        RelationshipKind.OTHER_INTEREST: "其他可能影响公正的关系",
    }
)

NOTICE_KINDS = MappingProxyType(
    {NoticeKind.INVESTIGATION: "考察预告", NoticeKind.PRE_APPOINTMENT: "任前公示"}
)

# The cadre register (干部名册): its parts, its assessments, and rotation (交流) decisions.
REGISTER_SECTIONS = MappingProxyType(
    {
        RegisterSection.PERSON: "基本信息",
        RegisterSection.POSTS: "任职经历",
        RegisterSection.SANCTIONS: "处分",
        RegisterSection.ASSESSMENTS: "考核与测试",
    }
)
ASSESSMENT_KINDS = MappingProxyType(
    {
        AssessmentKind.ANNUAL: "年度考核",
        AssessmentKind.CAPABILITY_TEST: "能力测试",
        AssessmentKind.RETEST: "补测",
    }
)
ASSESSMENT_GRADES = MappingProxyType(
    {
        AssessmentGrade.EXCELLENT: "优秀",
        AssessmentGrade.COMPETENT: "称职",
        AssessmentGrade.BASICALLY_COMPETENT: "基本称职",
        AssessmentGrade.INCOMPETENT: "不称职",
        AssessmentGrade.PASSED: "合格",
        AssessmentGrade.FAILED: "不合格",
    }
)
ROTATION_DECISIONS = MappingProxyType(
    {
        RotationDecision.ROTATE: "交流",
        RotationDecision.DEFER: "暂缓交流",
        RotationDecision.EXEMPT: "不予交流",
    }
)

# The capability test (行政管理能力测试) and the double evaluation's removal cases (降免职).
CAPABILITY_OUTCOMES = MappingProxyType(
    {
        CapabilityOutcome.PASSED: "合格",
        CapabilityOutcome.SELF_STUDY: "不合格，自学后补测",
        CapabilityOutcome.HANDLING: "补测不合格，组织处理",
    }
)
HANDLING_OPTIONS = MappingProxyType(
    {
        HandlingOption.REVERSE_ROTATION: "逆向交流",
        HandlingOption.DEMOTION: "降职",
        HandlingOption.NON_LEADING_POST: "改任非领导职务",
    }
)
RETEST_STATUSES = MappingProxyType(
    {
        RetestStatus.SELF_STUDY: "自学中",
        RetestStatus.AWAITING_RETEST: "待补测",
        RetestStatus.AWAITING_HANDLING: "待组织处理",
        RetestStatus.PASSED: "补测合格",
        RetestStatus.HANDLED: "已组织处理",
    }
)
REMOVAL_MEASURES = MappingProxyType(
    {RemovalMeasure.DEMOTION: "降职", RemovalMeasure.REMOVAL: "免职"}
)
REMOVAL_STATUSES = MappingProxyType(
    {
        RemovalStatus.AWAITING_VOTE: "待常委会票决",
        RemovalStatus.DEFERRED: "暂缓表决",
        RemovalStatus.DECIDED: "表决通过",
        RemovalStatus.REJECTED: "表决未通过，不予降免职",
    }
)
MOVE_STATUSES = MappingProxyType(
    {
        MoveStatus.AWAITING_DOCUMENT: "待印发交流文件",
        MoveStatus.AWAITING_ARRIVAL: "待到岗报到",
        MoveStatus.ARRIVED: "已到岗",
        MoveStatus.CANCELLED: "已撤销",
    }
)
# the steps people take in these workflows, as their letters and refusals name them
CADRE_STEPS = MappingProxyType(
    {
        "record_retest": "登记补测成绩",
        "record_handling": "登记组织处理决定",
        "record_removal_vote": "登记常委会票决结果",
        "record_rotation_document": "登记交流文件印发",
        "record_rotation_arrival": "登记到岗报到",
        "cancel_rotation_move": "撤销交流",
    }
)

# Every enum a page shows, with its names: what the ``zh`` filter looks values up in.
BY_ENUM: Mapping[type, Mapping[Any, str]] = MappingProxyType(
    {
        CaseStage: STAGES,
        CaseStatus: STATUSES,
        ChainKind: CHAIN_KINDS,
        Role: ROLES,
        SelectionMethod: METHODS,
        CandidateStatus: CANDIDATE_STATUSES,
        InspectionCheck: CHECKS,
        VoteMethod: VOTE_METHODS,
        VoteResult: VOTE_RESULTS,
        ObjectionOutcome: OBJECTION_OUTCOMES,
        NoticeKind: NOTICE_KINDS,
        SanctionKind: SANCTIONS,
        ProbationStatus: PROBATION_STATUSES,
        ReviewStatus: REVIEW_STATUSES,
        ReviewOutcome: REVIEW_OUTCOMES,
        DigestItemKind: DIGEST_KINDS,
        RelationshipKind: RELATIONSHIP_KINDS,
        ExtensionDecision: EXTENSION_DECISIONS,
        RegisterSection: REGISTER_SECTIONS,
        AssessmentKind: ASSESSMENT_KINDS,
        AssessmentGrade: ASSESSMENT_GRADES,
        RotationDecision: ROTATION_DECISIONS,
        CapabilityOutcome: CAPABILITY_OUTCOMES,
        HandlingOption: HANDLING_OPTIONS,
        RetestStatus: RETEST_STATUSES,
        RemovalMeasure: REMOVAL_MEASURES,
        RemovalStatus: REMOVAL_STATUSES,
        MoveStatus: MOVE_STATUSES,
    }
)


def zh(value: object) -> str:
    """The Chinese name of an enum value; anything else as it is."""
    names = BY_ENUM.get(type(value))
    if names is not None:
        return str(names[value])
    return "" if value is None else str(value)


# The fields of the forms, by their name in the wire models.
FIELDS = MappingProxyType(
    {
        "case_id": "案件编号",
        "unit": "单位",
        "post": "拟任职务",
        "positions": "职数",
        "method": "选拔方式",
        "probation_required": "实行试用期",
        "economic_audit_required": "需经济责任审计",
        "leading_post": "拟任职务为领导职务",
        "candidates": "人选",
        "recommendation": "民主推荐",
        "opened_on": "立案日期",
        "held_on": "日期",
        "participants": "参加人数",
        "summary": "内容摘要",
        "announced_on": "公告日期",
        "closed_on": "报名截止日期",
        "applicants": "报名人员",
        "candidate": "人员",
        "registered_on": "报名日期",
        "qualified": "资格审查通过",
        "reason": "理由",
        "scores": "成绩",
        "score": "成绩",
        "person_id": "人员",
        "name": "姓名",
        "sex": "性别",
        "ethnicity": "民族",
        "birth_date": "出生日期",
        "party_member": "中共党员",
        "education": "学历",
        "work_started_on": "参加工作时间",
        "current_post": "现任职务",
        "current_rank": "现职级",
        "short_cv": "简历",
        "on_probation": "正在试用期",
        "last_promotion_on": "上次提拔日期",
        "promotion": "提拔任职（平级交流填否）",
        "exceptional": "破格提拔",
        "levels_skipped": "越级数",
        "through_democratic_recommendation": "经民主推荐",
        "time_in_post_exception": "任职年限破格",
        "previous_promotion_was_time_in_post_exception": "上次提拔为任职年限破格",
        "sanctions": "处分",
        "published_on": "发布日期",
        "one_to_one_reason": "等额考察理由",
        "members": "考察组成员",
        "started_on": "考察开始日期",
        "check": "核查事项",
        "completed_on": "完成日期",
        "finding": "核查结论",
        "excellent": "优秀票",
        "competent": "称职票",
        "basically_competent": "基本称职票",
        "incompetent": "不称职票",
        "submitted_on": "提交日期",
        "concluded_on": "考察结束日期",
        "proposed": "提交常委会人选（人员编号，每行一人）",
        "replied_on": "批复日期",
        "approved": "批准",
        "reference": "批复文号",
        "meeting": "常委会会议",
        "meeting_id": "会议编号",
        "present": "到会人数",
        "items": "表决事项",
        "agree": "同意",
        "disagree": "不同意",
        "defer": "缓议",
        "deferred_reason": "暂缓表决理由",
        "notice_id": "公示编号",
        "objection_id": "反映编号",
        "received_on": "收到日期",
        "anonymous": "匿名",
        "verified_on": "核查日期",
        "outcome": "核查结果",
        "same_for": "同一核查结果的其他反映（反映编号，每行一个，须涉及同一人员）",
        "attachments": "所依据的附件（先在案件页上传，填其 SHA-256 摘要，每行一个）",
        "decided_on": "决定日期",
        "step": "待办事项编号（案件页所示）",
        "working_days": "延长的工作日数",
        "request_id": "延期申请编号",
        "register_id": "名册编号",
        "register_version": "名册版本",
        "register_readings": "读取的干部名册信息",
        "requested_by": "延期申请人",
        # the capability test and the double evaluation (workflows.capability_types,
        # double_evaluation_types)
        "tested_on": "测试日期",
        "notified_on": "成绩通知日期",
        "note": "备注",
        "decision": "决定",
        "campaign_id": "能力测试编号",
        "evaluation_id": "双重考核编号",
        "title": "名称",
        "measure": "提请的处理",
        "voters": "参加测评人数",
        "leaders": "党政正职",
        "results": "成绩",
        "assignee": "经办人（账户名；空：退回待办队列）",
        "appoint": "予以任用",
        "notice_issued_on": "任职通知日期",
        "talk_held_on": "任职谈话日期",
        "talk_by": "谈话人",
        "actor": "经办人",
        "relationships": "申报的亲属关系",
        "related_name": "有亲属关系的人员（姓名，与考察组、到会成员或经办人名单一致）",
        "relation": "亲属关系",
        "declared_on": "申报日期",
        "attendees": "到会成员（姓名，每行一人；表决的人选申报有亲属关系时必填）",
        "withdrawn": "回避的成员（姓名）",
        # the rotation batches (workflows.rotation_batch_types)
        "batch_id": "交流批次编号",
        "scan_id": "交流排查编号",
        "moves": "交流人员",
        "to_unit": "交流去向单位",
        "to_township": "交流去向乡镇",
        "to_post": "新任职务",
        "issued_on": "交流文件印发日期",
        "arrived_on": "到岗报到日期",
        # where a name means something else inside a group
        "meeting.held_on": "会议日期",
        "meeting.members": "常委会组成人数（应到）",
        "meeting.method": "表决方式",
        "recommendation.held_on": "推荐日期",
        "recommendation.summary": "推荐情况",
        "candidate.person_id": "人员编号",
        "exceptional.reason": "破格理由",
    }
)

# The human steps, by the name of their workflow update.
STEPS: Mapping[str, str] = MappingProxyType({u: step.title for u, step in CASE_STEPS.items()})

# A probation's steps, by the name of their workflow update.
PROBATION_STEPS = MappingProxyType(
    {"record_probation_review": "试用期满考核", "end_probation_early": "提前结束试用期"}
)


def field_label(name: str) -> str:
    """The label of a field by its dotted name (``meeting.members``), else by its own name."""
    if name in FIELDS:
        return FIELDS[name]
    group, _, own = name.rpartition(".")
    inner = group.rpartition(".")[2]
    return FIELDS.get(f"{inner}.{own}", FIELDS.get(own, own)) if group else own


def step_title(update: str) -> str:
    return STEPS.get(update, update)


def with_value(value: Any) -> str:
    """An enum value with its Chinese name, as the CLI prints it: ``vote (常委会票决)``."""
    return f"{value.value} ({zh(value)})"


# The kinds of recorded events, as the audit pages name them.
EVENT_KINDS = MappingProxyType(
    {
        "opened": "立案",
        "transition": "环节变更",
        "input": "办理录入",
        "eligibility": "资格审查",
        "deadline": "期限",
        "reminder": "提醒",
        "escalation": "督办",
        "overdue": "逾期",
        "timer": "期满",
        "blocked": "受阻",
        "probation": "试用期",
        "closed": "结案",
        # a probation's own events
        "reminder_missed": "提醒未及时发出",
        "formal": "正式任职",
        "review": "试用期满考核",
        "ended_early": "提前结束试用期",
        # the cadre register's chain (store.register_audit)
        "register_changed": "干部名册变更",
        # a case's candidate whose register facts changed since the case read them
        "register_updated": "名册已更新",
        "rotation_listed": "交流排查",
        "rotation_decided": "交流决定",
        # a capability test campaign and a cadre's retest (workflows.capability_*)
        "capability_opened": "能力测试成绩导入",
        "capability_result": "能力测试成绩",
        "capability_retest_started": "启动自学补测",
        "capability_finished": "能力测试办结",
        "capability_self_study": "自学",
        "capability_reminder": "补测提醒",
        "capability_reminder_missed": "补测提醒未及时发出",
        "capability_deadline": "期限",
        "capability_alarm": "提醒督办",
        "capability_overdue": "逾期",
        "capability_blocked": "受阻",
        "capability_retest": "补测",
        "capability_handling": "组织处理",
        # a double evaluation and its removal cases (workflows.double_evaluation, removal_case)
        "evaluation_opened": "双重考核测评导入",
        "evaluation_ranked": "双重考核排队",
        "evaluation_case_started": "启动降免职案件",
        "evaluation_finished": "双重考核办结",
        "removal_opened": "降免职立案",
        "removal_deadline": "期限",
        "removal_alarm": "提醒督办",
        "removal_overdue": "逾期",
        "removal_blocked": "受阻",
        "removal_vote": "常委会票决",
        # a rotation batch and its moves (workflows.rotation_batch)
        "rotation_batch_opened": "交流批次编组",
        "rotation_document": "交流文件印发",
        "rotation_arrived": "到岗报到",
        "rotation_move_cancelled": "撤销交流",
        "rotation_batch_finished": "交流批次办结",
        "rotation_deadline": "期限",
        "rotation_alarm": "提醒督办",
        "rotation_overdue": "逾期",
        "rotation_blocked": "受阻",
    }
)


def zh_recorded(value: str) -> str:
    """The Chinese name of a stage, role or event kind as the log records it (plain text,
    whatever version wrote it); an unknown word is shown as it is."""
    for kind in (CaseStage, Role, ProbationStatus, ReviewStatus):
        try:
            return zh(kind(value))
        except ValueError:
            continue
    return EVENT_KINDS.get(value, value)


# What a case waits for (``StepState.step``, before any ":"), in words, and the step that
# answers it (None: a period that runs out by itself).
AWAITED: Mapping[str, tuple[str, str | None]] = MappingProxyType(
    {
        "registration": ("报名与资格审查", "record_registration"),
        "written_test": ("笔试成绩", "record_written_test"),
        "interview": ("面试成绩", "record_interview"),
        "pre_inspection_approval": ("考察前报上级审批", "record_higher_approval"),
        "investigation_notice": ("发布考察预告", "record_investigation_notice"),
        "inspection_team": ("组建考察组并开始考察", "record_inspection_team"),
        "inspection": ("考察与考察结论", "conclude_inspection"),
        "higher_approval": ("上级审批", "record_higher_approval"),
        "vote": ("常委会票决", "record_vote"),
        "revote": ("常委会再次票决", "record_vote"),
        "public_notice": ("发布任前公示", "record_public_notice"),
        "notice_period": ("任前公示期", None),
        "objection_verification": ("核查公示期间反映", "record_objection_verdict"),
        "suspension": ("暂缓任用期满决定", "decide_suspension"),
        "appointment": ("任职通知与谈话", "record_appointment"),
    }
)


def awaited(step_key: str) -> tuple[str, str | None]:
    """(words, the answering step) for what a case waits on; unknown keys as they are."""
    return AWAITED.get(step_key.split(":", 1)[0], (step_key, None))


# The outside events a case records (``CaseState.dates``): the words of its date checks too.
DATES = MappingProxyType(
    {
        "opened": "立案",
        "exam_announced": "考试公告",
        "registration_closed": "报名截止",
        "written_test": "笔试",
        "interview": "面试",
        "last_approval": "上级批复",
        "investigation_notice": "考察预告",
        "inspection_window_start": "考察最早可开始",
        "inspection_window_end": "考察最迟应开始",
        "inspection_started": "考察开始",
        "inspection_concluded": "考察结束",
        "last_meeting": "常委会会议",
        "notice_published": "任前公示发布",
        "notice_ends": "任前公示截止",
        "notice_over": "任前公示期满",
        "appointment_notice": "任职通知",
    }
)


def date_label(key: str) -> str:
    return DATES.get(key, key)
