"""Who may do what through the API: one table of actions and the roles allowed each.

Every endpoint names its action; ``api.deps.permit`` refuses (403) a caller whose role is
not listed, before the request's content is even read. A case's steps take their roles from
the step table (``workflows.steps``), which the workflow itself enforces as well, so a door
that skips this table (a raw Temporal client) meets the same refusal.

Two rules narrow the table for one case or one probation, once the request is read:

- ``TEAM_ACTIONS``: an inspection-team member records inspection inputs only on a case whose
  inspection team names the member's account (``must_be_on_team``; 403 otherwise);
- ``POLICY_ACTIONS``: a probation's review and early end are recorded only by the roles the
  probation's own policy names (``probation.review_roles`` / ``end_early_roles``, as the
  probation started with them); the table lets every role but the auditor ask, and the
  policy decides (403 otherwise), so a change of the policy file never strands a running
  probation.

Audit: auditors and the department head read the log, search it, see a case as of a day and
export dossiers; verifying the log and listing its checkpoints, which show no personal
content, are open to the administrator too, who runs the service. Nothing in the audit
section changes anything, and auditors change nothing anywhere.

Payloads: what the service keeps in Temporal is encrypted; the codec endpoint
(``api.routers.codec``) decrypts it for the Temporal Web UI only for auditors and
administrators, and encrypts for the UI (what an administrator sends a workflow from there)
only for administrators.
"""

from __future__ import annotations

from types import MappingProxyType

from workflows.glossary import CADRE_STEPS, PROBATION_STEPS, STEPS, zh
from workflows.steps import CASE_STEPS, EXTENSION_REQUEST_ROLES
from workflows.types import Role

_READERS = frozenset(
    {
        Role.CLERK,
        Role.SECTION_CHIEF,
        Role.DEPARTMENT_HEAD,
        Role.INSPECTION_TEAM,
        Role.COMMITTEE_SECRETARY,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)
_CHANGERS = _READERS - {Role.AUDITOR}
_AUDITORS = frozenset({Role.AUDITOR, Role.DEPARTMENT_HEAD})
_CLERK = frozenset({Role.CLERK})
_TEAM = frozenset({Role.INSPECTION_TEAM})
_HEAD = frozenset({Role.DEPARTMENT_HEAD})

# Reads that are not the case itself: the audit timeline is for those who check the work.
READ_CASES = "read_cases"
READ_AUDIT = "read_audit"
READ_INBOX = "read_inbox"
MARK_INBOX_READ = "mark_inbox_read"
START_CASE = "start_case"
READ_PROBATIONS = "read_probations"
RECORD_PROBATION_REVIEW = "record_probation_review"
END_PROBATION_EARLY = "end_probation_early"
EXPORT_AUDIT = "export_audit"
# a dossier with the files themselves (a zip): those who may both export it and read the case
EXPORT_AUDIT_FILES = "export_audit_files"
VERIFY_AUDIT = "verify_audit"
DECODE_PAYLOADS = "decode_payloads"
ENCODE_PAYLOADS = "encode_payloads"
# the informants of a case's objections: those who verify objections, and the head
DISCLOSE_INFORMANTS = "disclose_informants"
# a year's holidays and make-up working days, copied from the State Council's notice
ENTER_CALENDAR_YEAR = "enter_calendar_year"
# a file a step relies on, given to the case: the roles that take any of its steps
ATTACH_FILE = "attach_file"
# the reports (报表): how long stages take, where steps go overdue, per month; for those who
# run and check the department's work
READ_REPORTS = "read_reports"
# 代理: name who acts for oneself while away (an administrator: for anyone)
SET_SUBSTITUTE = "set_substitute"
# the cadre register (干部名册): read by those who do or check cadre work, changed (imported)
# by the clerks and their chief; rotation (交流) decided by the head
READ_REGISTER = "read_register"
CHANGE_REGISTER = "change_register"
DECIDE_ROTATION = "decide_rotation"
# 延期申请: who acts on an awaited step asks for more time (the rule narrows it to the step's
# own role or assignee); the approvers are those who may extend a deadline, as the policy
# narrows them (``extension.approver_roles``)
REQUEST_EXTENSION = "request_extension"
DECIDE_EXTENSION = "decide_extension"
# the capability test (能力测试) and the double evaluation (双重考核): read by those who do or
# check cadre work; started (a sheet imported) by the clerks and their chief; each human step
# (a retest score, a handling decision, the committee's vote on a removal) may be asked by
# every role but the auditor, and the workflow's policy (``cadre.capability_test.
# retest_roles``, ``handling_roles``, ``cadre.double_evaluation.vote_roles``) decides (403)
READ_CADRE_WORK = "read_cadre_work"
START_CAPABILITY_TEST = "start_capability_test"
RECORD_RETEST = "record_retest"
RECORD_HANDLING = "record_handling"
START_DOUBLE_EVALUATION = "start_double_evaluation"
RECORD_REMOVAL_VOTE = "record_removal_vote"
# rotation batches (交流批次): read as the register is; made from the head's decisions by those
# who do cadre work; each move's steps may be asked by every role but the auditor, and the
# batch's policy (``cadre.rotation.batch.document_roles``, ``arrival_roles``,
# ``cancel_roles``) decides (403)
MAKE_ROTATION_BATCH = "make_rotation_batch"
RECORD_ROTATION_DOCUMENT = "record_rotation_document"
RECORD_ROTATION_ARRIVAL = "record_rotation_arrival"
CANCEL_ROTATION_MOVE = "cancel_rotation_move"

ALLOWED: MappingProxyType[str, frozenset[Role]] = MappingProxyType(
    {
        READ_CASES: _READERS,
        READ_AUDIT: _AUDITORS,
        EXPORT_AUDIT: _AUDITORS,
        EXPORT_AUDIT_FILES: _AUDITORS & _READERS,
        VERIFY_AUDIT: _AUDITORS | {Role.ADMINISTRATOR},
        DECODE_PAYLOADS: frozenset({Role.AUDITOR, Role.ADMINISTRATOR}),
        ENCODE_PAYLOADS: frozenset({Role.ADMINISTRATOR}),
        ENTER_CALENDAR_YEAR: frozenset({Role.ADMINISTRATOR}),
        READ_REPORTS: frozenset(
            {Role.DEPARTMENT_HEAD, Role.SECTION_CHIEF, Role.AUDITOR, Role.ADMINISTRATOR}
        ),
        DISCLOSE_INFORMANTS: (CASE_STEPS["record_objection_verdict"].roles - {Role.SYSTEM}) | _HEAD,
        READ_INBOX: _READERS,
        SET_SUBSTITUTE: _CHANGERS,
        REQUEST_EXTENSION: EXTENSION_REQUEST_ROLES,
        DECIDE_EXTENSION: CASE_STEPS["extend_deadline"].roles,
        # each role its own messages; INBOX_MARKERS any role's (see reads.mark_read)
        MARK_INBOX_READ: _READERS,
        START_CASE: _CLERK,
        # every role that takes a step of a case, less the system and the administrator, whose
        # one step (retrying a blocked case) is upkeep of the service, not casework
        ATTACH_FILE: frozenset().union(*(s.roles for s in CASE_STEPS.values()))
        - {Role.SYSTEM, Role.ADMINISTRATOR},
        # every step of a case: the roles its row in the step table names, less the system's
        # own (the public board files objections as the system; no account is the system)
        **{update: step.roles - {Role.SYSTEM} for update, step in CASE_STEPS.items()},
        # probation: every role but the auditor may ask; the probation's policy decides
        READ_PROBATIONS: _READERS,
        RECORD_PROBATION_REVIEW: _CHANGERS,
        END_PROBATION_EARLY: _CHANGERS,
        READ_REGISTER: frozenset(
            {Role.CLERK, Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD, Role.AUDITOR}
        ),
        CHANGE_REGISTER: frozenset({Role.CLERK, Role.SECTION_CHIEF}),
        DECIDE_ROTATION: _HEAD,
        READ_CADRE_WORK: frozenset(
            {
                Role.CLERK,
                Role.SECTION_CHIEF,
                Role.DEPARTMENT_HEAD,
                Role.COMMITTEE_SECRETARY,
                Role.AUDITOR,
            }
        ),
        START_CAPABILITY_TEST: frozenset({Role.CLERK, Role.SECTION_CHIEF}),
        START_DOUBLE_EVALUATION: frozenset({Role.CLERK, Role.SECTION_CHIEF}),
        RECORD_RETEST: _CHANGERS,
        RECORD_HANDLING: _CHANGERS,
        RECORD_REMOVAL_VOTE: _CHANGERS,
        MAKE_ROTATION_BATCH: frozenset({Role.CLERK, Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD}),
        RECORD_ROTATION_DOCUMENT: _CHANGERS,
        RECORD_ROTATION_ARRIVAL: _CHANGERS,
        CANCEL_ROTATION_MOVE: _CHANGERS,
    }
)

# Roles that may read any role's inbox, not only their own.
INBOX_OVERSEERS = frozenset({Role.DEPARTMENT_HEAD, Role.AUDITOR, Role.ADMINISTRATOR})
# Roles that may mark any role's message read: the overseers who change things (an auditor
# marking a message read would change what its recipients see as waiting for them).
INBOX_MARKERS = INBOX_OVERSEERS - {Role.AUDITOR}

# Inspection inputs an inspection-team member records only on a case whose team names them.
TEAM_ACTIONS = frozenset(update for update, step in CASE_STEPS.items() if step.team_only)

# Probation updates by action; the roles that may send each are the probation's policy's
# (``probation.review_roles`` / ``end_early_roles``), checked by its own validator.
POLICY_ACTIONS: MappingProxyType[str, str] = MappingProxyType(
    {RECORD_PROBATION_REVIEW: "record_review", END_PROBATION_EARLY: "end_early"}
)


# What each action is called in a refusal (a case's steps by their titles in the step table).
ACTION_NAMES: MappingProxyType[str, str] = MappingProxyType(
    {
        READ_CASES: "查阅案件",
        READ_AUDIT: "查阅审计记录",
        EXPORT_AUDIT: "导出案卷",
        EXPORT_AUDIT_FILES: "导出案卷及附件",
        VERIFY_AUDIT: "核验审计记录",
        DECODE_PAYLOADS: "解密流程数据",
        ENCODE_PAYLOADS: "加密流程数据",
        ENTER_CALENDAR_YEAR: "录入工作日历",
        READ_REPORTS: "查阅报表",
        SET_SUBSTITUTE: "指定代理人",
        READ_REGISTER: "查阅干部名册",
        CHANGE_REGISTER: "导入干部名册",
        DECIDE_ROTATION: "决定干部交流",
        MAKE_ROTATION_BATCH: "编组交流批次",
        READ_CADRE_WORK: "查阅能力测试和双重考核",
        START_CAPABILITY_TEST: "导入能力测试成绩",
        START_DOUBLE_EVALUATION: "导入双重考核测评结果",
        **CADRE_STEPS,
        REQUEST_EXTENSION: "申请延期",
        DECIDE_EXTENSION: "审批延期申请",
        DISCLOSE_INFORMANTS: "查看反映人身份",
        READ_INBOX: "查阅待办消息",
        MARK_INBOX_READ: "将消息标为已读",
        START_CASE: "新建案件",
        ATTACH_FILE: "上传附件",
        READ_PROBATIONS: "查阅试用期",
        RECORD_PROBATION_REVIEW: PROBATION_STEPS["record_probation_review"],
        END_PROBATION_EARLY: PROBATION_STEPS["end_probation_early"],
        **STEPS,
    }
)


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action)


def refusal(action: str, role: Role) -> str:
    """The sentence of a 403: the role, in words, may not do the action."""
    return f"{zh(role)}无权{action_name(action)}"


def allowed(action: str, role: Role) -> bool:
    return role in ALLOWED[action]


def must_be_on_team(action: str, role: Role) -> bool:
    """Whether ``role`` doing ``action`` must be a member of the case's inspection team."""
    return action in TEAM_ACTIONS and role is Role.INSPECTION_TEAM


def may_mark_read(role: Role, recipient_role: str) -> bool:
    return role.value == recipient_role or role in INBOX_MARKERS
