"""The dossier's glossary (档案用语), frozen: the Chinese names an HTML dossier renders.

An HTML dossier is verified by rendering its embedded events again and comparing the page
byte for byte, so every name here is part of the dossier format: change one, and every
dossier exported before fails verification. These tables therefore belong to the audit
trail, not to the living names the console, the CLI and mail use (which may be reworded at
any time), and they are never edited. A new name, or a reworded one, goes into a new
dossier format version with a glossary of its own, and the version-2 names stay here.
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
