"""The dossier's glossary (档案用语), frozen: the Chinese names an HTML dossier renders.

An HTML dossier is verified by rendering its embedded events again and comparing the page
byte for byte, so every name here is part of the dossier format: change one, and every
dossier exported before fails verification. These tables therefore belong to the audit
trail, not to the living names the console, the CLI and mail use (which may be reworded at
any time), and they are never edited. A new name, or a reworded one, goes into a new
dossier format version with a glossary of its own, and the version-2 names stay here.

Formats v1 to v4 render with the tables of version 2 (the first block). Format v5 names the
event kinds recorded since (``KIND_LABELS_V5``: the case's probations, the register's chain,
the cadre workflows' chains) and the kind of chain a dossier is of (``CHAIN_LABELS_V5``), and
shows each name alone, without the word it stands for; its roles, statuses, methods, stages
and a probation's kinds are those of version 2.
"""

from __future__ import annotations

from types import MappingProxyType

KIND_LABELS = MappingProxyType(
    {
        "opened": "立案",
        "transition": "阶段变更",
        "input": "录入",
        "deadline": "设定期限",
        "reminder": "提醒",
        "escalation": "督办",
        "overdue": "逾期",
        "blocked": "受阻",
        "timer": "期满",
        "eligibility": "资格审查",
        "closed": "结案",
    }
)
ROLE_LABELS = MappingProxyType(
    {
        "clerk": "经办人员",
        "section_chief": "科长",
        "department_head": "部长",
        "inspection_team": "考察组",
        "committee_secretary": "常委会秘书",
        "auditor": "审计人员",
        "administrator": "系统管理员",
        "system": "系统",
    }
)
STATUS_LABELS = MappingProxyType(
    {
        "active": "办理中",
        "appointed": "已任职",
        "not_appointed": "未任用",
        "withdrawn": "已撤销",
    }
)
METHOD_LABELS = MappingProxyType(
    {
        "open_selection": "公开选拔",
        "competitive_appointment": "竞争上岗",
        "regular_appointment": "一般选拔任用",
    }
)
# A probation's own kinds; the case's labels are left as they are, so that a page exported
# before stays the page it renders to.
PROBATION_KIND_LABELS = MappingProxyType(
    {
        **KIND_LABELS,
        "opened": "开始试用",
        "reminder_missed": "提醒（时间已过）",
        "review": "考核",
        "formal": "正式任职",
        "removed": "免去试任职务",
        "ended_early": "提前结束试用期",
    }
)
# The stage names as the CLI showed them when dossier format v2 was made.
STAGE_LABELS = MappingProxyType(
    {
        "exam": "考试",
        "pre_inspection_approval": "考察前报批",
        "investigation_notice": "考察预告",
        "inspection": "考察",
        "higher_approval": "上级审批",
        "vote": "常委会票决",
        "public_notice": "任前公示",
        "appointment": "任职",
        "closed": "已结束",
    }
)

# ----------------------------------------------------------------- dossier format v5

# The kinds of a chain of the case kind (``cases.chain``): an appointment case, or an audit
# chain that is not one.
CHAIN_LABELS_V5 = MappingProxyType(
    {
        "appointment": "干部选拔任用案件",
        "cadre_register": "干部名册及交流决定",
        "capability_campaign": "能力测试",
        "capability_retest": "能力测试补测与组织处理",
        "double_evaluation": "双重考核",
        "removal": "双重考核降免职",
        "rotation_batch": "交流批次",
    }
)
# Every kind a chain of the case kind records: the version-2 names of a case's, and those
# recorded since.
KIND_LABELS_V5 = MappingProxyType(
    {
        **KIND_LABELS,
        # a case's appointee's probation started
        "probation": "试用期",
        # a case's candidate whose register facts changed since the case read them
        "register_updated": "名册已更新",
        # the cadre register's chain
        "register_changed": "干部名册变更",
        "rotation_listed": "交流排查",
        "rotation_decided": "交流决定",
        # a capability test campaign and a cadre's retest
        "capability_opened": "能力测试成绩导入",
        "capability_result": "能力测试成绩",
        "capability_retest_started": "启动自学补测",
        "capability_finished": "能力测试办结",
        "capability_self_study": "自学",
        "capability_reminder": "补测提醒",
        "capability_reminder_missed": "补测提醒（时间已过）",
        "capability_deadline": "设定期限",
        "capability_alarm": "提醒督办",
        "capability_overdue": "逾期",
        "capability_blocked": "受阻",
        "capability_retest": "补测",
        "capability_handling": "组织处理",
        # a double evaluation and its removal cases
        "evaluation_opened": "双重考核测评导入",
        "evaluation_ranked": "双重考核排队",
        "evaluation_case_started": "启动降免职案件",
        "evaluation_finished": "双重考核办结",
        "removal_opened": "降免职立案",
        "removal_deadline": "设定期限",
        "removal_alarm": "提醒督办",
        "removal_overdue": "逾期",
        "removal_blocked": "受阻",
        "removal_vote": "常委会票决",
        # a rotation batch and its moves
        "rotation_batch_opened": "交流批次编组",
        "rotation_document": "交流文件印发",
        "rotation_arrived": "到岗报到",
        "rotation_move_cancelled": "撤销交流",
        "rotation_batch_finished": "交流批次办结",
        "rotation_deadline": "设定期限",
        "rotation_alarm": "提醒督办",
        "rotation_overdue": "逾期",
        "rotation_blocked": "受阻",
    }
)
