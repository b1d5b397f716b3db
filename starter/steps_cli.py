"""The commands that record a step of a case: ``exam``, ``inspection``, ``approval``, ``vote``,
``notice``, ``appoint`` and ``retry``.

Each one reads and checks all of its input before it sends the step to the case's workflow
as an update, then prints where the case stands.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from starter.cli_base import (
    DATE,
    App,
    InputError,
    Send,
    _choice,
    build,
    pass_app,
    record_many,
    record_step,
)
from starter.click_zh import ZhCommand, ZhGroup
from starter.inputs import (
    MeetingFile,
    NoticeFile,
    _by_case,
    check_meeting,
    load_model,
    read_applicants,
    read_scores,
)
from workflows.types import (
    AppointmentInput,
    DemocraticEvaluationInput,
    ExamScoresInput,
    HigherApprovalInput,
    InspectionCheck,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    ObjectionInput,
    ObjectionOutcome,
    ObjectionVerdictInput,
    PublicNoticeInput,
    RegistrationInput,
    RetryInput,
    SuspensionDecisionInput,
    VoteInput,
)

# --------------------------------------------------------------------------- exam


@click.group(cls=ZhGroup)
def exam() -> None:
    """公开选拔、竞争上岗案件的报名、笔试和面试。"""


CSV_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@exam.command("register")
@click.argument("case_id", metavar="CASE")
@click.argument("file", metavar="FILE.csv|FILE.xlsx", type=CSV_FILE)
@click.option("--announced-on", type=DATE, required=True)
@click.option("--closed-on", type=DATE, required=True)
@pass_app
def exam_register(app: App, case_id: str, file: Path, announced_on: date, closed_on: date) -> None:
    """从 FILE.csv 或 FILE.xlsx 登记报名人员及资格审查结果。

    FILE.xlsx 第一行为中文列名（姓名、身份证号或人员编号、出生日期……），空白模板：
    appointments template applicants。文件格式：appointments schema applicants。

    列：`person_id,name,sex,birth_date,current_post,current_rank,registered_on,qualified,reason`；
    可选列：sanctions（kind:YYYY-MM-DD;...）、ethnicity、party_member、education、work_started_on
    、short_cv、last_promotion_on、on_probation、promotion（平级交流填 no，空白表示提拔）。
    qualified 及各是否项填 yes/no（是/否）。
    """
    actor = app.actor()
    applicants = read_applicants(file)
    arg = build(
        RegistrationInput,
        {
            "actor": actor,
            "announced_on": announced_on,
            "closed_on": closed_on,
            "applicants": applicants,
        },
    )
    record_step(app, case_id, "record_registration", arg)


def _scores_command(update: str, what: str) -> click.Command:
    @click.argument("case_id", metavar="CASE")
    @click.argument("file", metavar="FILE.csv|FILE.xlsx", type=CSV_FILE)
    @click.option("--held-on", type=DATE, required=True)
    @pass_app
    def command(app: App, case_id: str, file: Path, held_on: date) -> None:
        actor = app.actor()
        scores = read_scores(file)
        arg = build(ExamScoresInput, {"actor": actor, "held_on": held_on, "scores": scores})
        record_step(app, case_id, update, arg)

    command.__doc__ = (
        f"从 FILE.csv（列：`person_id,score`）或 FILE.xlsx（列：人员编号、成绩）登记{what}。"
        "\n\n空白模板：appointments template scores。文件格式：appointments schema scores。"
    )
    return click.command(cls=ZhCommand)(command)


exam.add_command(_scores_command("record_written_test", "笔试成绩"), "written")
exam.add_command(_scores_command("record_interview", "面试成绩"), "interview")


# --------------------------------------------------------------------------- inspection


@click.group(cls=ZhGroup)
def inspection() -> None:
    """考察预告、考察组、各项核查及考察结论。"""


@inspection.command("notice")
@click.argument("case_id", metavar="CASE")
@click.option("--published-on", type=DATE, required=True)
@click.option(
    "--one-to-one-reason",
    default="",
    help="人选不多于职数（等额）时，说明理由",
)
@pass_app
def inspection_notice(app: App, case_id: str, published_on: date, one_to_one_reason: str) -> None:
    """登记考察预告的发布。"""
    arg = build(
        InvestigationNoticeInput,
        {
            "actor": app.actor(),
            "published_on": published_on,
            "one_to_one_reason": one_to_one_reason,
        },
    )
    record_step(app, case_id, "record_investigation_notice", arg)


@inspection.command("team")
@click.argument("case_id", metavar="CASE")
@click.option("--member", "members", multiple=True, required=True, help="考察组成员；每人写一次")
@click.option("--started-on", type=DATE, required=True)
@pass_app
def inspection_team(app: App, case_id: str, members: tuple[str, ...], started_on: date) -> None:
    """登记考察组（至少两人）及考察开始日期。"""
    arg = build(
        InspectionTeamInput,
        {"actor": app.actor(), "members": list(members), "started_on": started_on},
    )
    record_step(app, case_id, "record_inspection_team", arg)


@inspection.command("check")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.argument("check", type=_choice(InspectionCheck))
@click.option("--completed-on", type=DATE, required=True)
@click.option("--finding", required=True)
@pass_app
def inspection_check(
    app: App, case_id: str, person_id: str, check: str, completed_on: date, finding: str
) -> None:
    """登记 PERSON 的一项“凡提四必”核查，或经济责任审计。"""
    arg = build(
        InspectionCheckInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "check": check,
            "completed_on": completed_on,
            "finding": finding,
        },
        positional=("person_id", "check"),
    )
    record_step(app, case_id, "record_inspection_check", arg)


@inspection.command("evaluation")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--held-on", type=DATE, required=True)
@click.option("--participants", type=int, required=True)
@click.option("--excellent", type=int, required=True, help="优秀")
@click.option("--competent", type=int, required=True, help="称职")
@click.option("--basically-competent", type=int, required=True, help="基本称职")
@click.option("--incompetent", type=int, required=True, help="不称职")
@pass_app
def inspection_evaluation(
    app: App,
    case_id: str,
    person_id: str,
    held_on: date,
    participants: int,
    excellent: int,
    competent: int,
    basically_competent: int,
    incompetent: int,
) -> None:
    """登记 PERSON 的民主测评结果。"""
    arg = build(
        DemocraticEvaluationInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "held_on": held_on,
            "participants": participants,
            "excellent": excellent,
            "competent": competent,
            "basically_competent": basically_competent,
            "incompetent": incompetent,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_democratic_evaluation", arg)


@inspection.command("report")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--submitted-on", type=DATE, required=True)
@click.option("--summary", required=True)
@pass_app
def inspection_report(
    app: App, case_id: str, person_id: str, submitted_on: date, summary: str
) -> None:
    """登记 PERSON 的考察报告。"""
    arg = build(
        InspectionReportInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "submitted_on": submitted_on,
            "summary": summary,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_inspection_report", arg)


@inspection.command("conclude")
@click.argument("case_id", metavar="CASE")
@click.option(
    "--propose",
    "proposed",
    multiple=True,
    required=True,
    metavar="PERSON",
    help="提交常委会的人选；每人写一次",
)
@click.option("--concluded-on", type=DATE, required=True)
@pass_app
def inspection_conclude(
    app: App, case_id: str, proposed: tuple[str, ...], concluded_on: date
) -> None:
    """作出考察结论：确定提交常委会的人选。"""
    arg = build(
        InspectionConclusionInput,
        {"actor": app.actor(), "proposed": list(proposed), "concluded_on": concluded_on},
    )
    record_step(app, case_id, "conclude_inspection", arg)


# --------------------------------------------------------------------------- approval, vote


@click.group(cls=ZhGroup)
def approval() -> None:
    """上级组织部门的批复（破格提拔等）。"""


@approval.command("record")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--replied-on", type=DATE, required=True)
@click.option("--approved/--refused", default=None, help="批复结果（二者必选其一）")
@click.option("--reference", required=True, help="批复文号")
@pass_app
def approval_record(
    app: App,
    case_id: str,
    person_id: str,
    replied_on: date,
    approved: bool | None,
    reference: str,
) -> None:
    """登记上级对 PERSON 的批复。"""
    if approved is None:
        raise InputError("请写明批复结果：--approved 或 --refused")
    arg = build(
        HigherApprovalInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "replied_on": replied_on,
            "approved": approved,
            "reference": reference,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_higher_approval", arg)


@click.group(cls=ZhGroup)
def vote() -> None:
    """常委会表决。"""


@vote.command("record")
@click.argument("meeting_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def vote_record(app: App, meeting_file: Path) -> None:
    """登记一次常委会会议，及会上决定的每个案件各表决事项的票数。

    先检查整个文件（到会人数、各事项的票数）；有任何问题，则一项也不发送。
    文件格式：appointments schema meeting。
    """
    actor = app.actor()
    file = load_model(MeetingFile, meeting_file)
    described = check_meeting(meeting_file, file)
    meeting = file.meeting()
    sends = [
        Send(
            case_id,
            VoteInput(actor=actor, meeting=meeting, items=items),
            tuple(f"{i.person_id}: {described[(case_id, i.person_id)]}" for i in items),
        )
        for case_id, items in _by_case(file.items).items()
    ]
    click.echo(
        f"{meeting.held_on} 常委会会议 {meeting.meeting_id}：应到 {meeting.members} 人，"
        f"实到 {meeting.present} 人；{len(sends)} 个案件共 {len(file.items)} 个表决事项"
    )
    record_many(app, "record_vote", sends)


# --------------------------------------------------------------------------- notice


@click.group(cls=ZhGroup)
def notice() -> None:
    """任前公示、公示期间的反映及暂缓任用。"""


@notice.command("publish")
@click.argument("notice_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def notice_publish(app: App, notice_file: Path) -> None:
    """为公示涉及的每个案件登记已发布的任前公示。

    文件格式：appointments schema notice。
    """
    actor = app.actor()
    file = load_model(NoticeFile, notice_file)
    repeated = sorted({c for c in file.case_ids if file.case_ids.count(c) > 1})
    if repeated:
        raise InputError(f"{notice_file}：case_ids 中 {'、'.join(repeated)} 列了不止一次")
    arg = PublicNoticeInput(actor=actor, notice_id=file.notice_id, published_on=file.published_on)
    record_many(app, "record_public_notice", [Send(c, arg) for c in file.case_ids])


@notice.command("objection")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--objection-id", required=True)
@click.option("--received-on", type=DATE, required=True)
@click.option("--summary", required=True)
@click.option("--anonymous", is_flag=True)
@pass_app
def notice_objection(
    app: App,
    case_id: str,
    person_id: str,
    objection_id: str,
    received_on: date,
    summary: str,
    anonymous: bool,
) -> None:
    """登记公示期间收到的关于 PERSON 的反映。"""
    arg = build(
        ObjectionInput,
        {
            "actor": app.actor(),
            "objection_id": objection_id,
            "person_id": person_id,
            "received_on": received_on,
            "summary": summary,
            "anonymous": anonymous,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_objection", arg)


@notice.command("verdict")
@click.argument("case_id", metavar="CASE")
@click.argument("objection_id", metavar="OBJECTION_ID")
@click.option("--outcome", type=_choice(ObjectionOutcome), required=True)
@click.option("--verified-on", type=DATE, required=True)
@click.option("--finding", required=True)
@click.option(
    "--same-for",
    "same_for",
    multiple=True,
    metavar="OBJECTION_ID",
    help="同一核查结果也适用于这件反映（须涉及同一人员）；可重复",
)
@pass_app
def notice_verdict(
    app: App,
    case_id: str,
    objection_id: str,
    outcome: str,
    verified_on: date,
    finding: str,
    same_for: tuple[str, ...],
) -> None:
    """登记一件反映的核查结果（用 --same-for 同时登记相同的其他反映）。"""
    arg = build(
        ObjectionVerdictInput,
        {
            "actor": app.actor(),
            "objection_id": objection_id,
            "outcome": outcome,
            "verified_on": verified_on,
            "finding": finding,
            "same_for": list(same_for),
        },
        positional=("objection_id",),
    )
    record_step(app, case_id, "record_objection_verdict", arg)


@notice.command("suspension")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--decided-on", type=DATE, required=True)
@click.option("--appoint/--not-appoint", default=None, help="决定结果（二者必选其一）")
@click.option("--reason", required=True)
@pass_app
def notice_suspension(
    app: App, case_id: str, person_id: str, decided_on: date, appoint: bool | None, reason: str
) -> None:
    """对 PERSON 的暂缓任用作出决定。"""
    if appoint is None:
        raise InputError("请写明决定结果：--appoint 或 --not-appoint")
    arg = build(
        SuspensionDecisionInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "decided_on": decided_on,
            "appoint": appoint,
            "reason": reason,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "decide_suspension", arg)


# --------------------------------------------------------------------------- appointment


@click.command(cls=ZhCommand)
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--notice-issued-on", type=DATE, required=True, help="任职通知")
@click.option("--talk-held-on", type=DATE, required=True, help="任职谈话")
@click.option("--talk-by", required=True, help="谈话人")
@pass_app
def appoint(
    app: App,
    case_id: str,
    person_id: str,
    notice_issued_on: date,
    talk_held_on: date,
    talk_by: str,
) -> None:
    """登记 PERSON 的任职：任职通知的印发和任职谈话。"""
    arg = build(
        AppointmentInput,
        {
            "actor": app.actor(),
            "person_id": person_id,
            "notice_issued_on": notice_issued_on,
            "talk_held_on": talk_held_on,
            "talk_by": talk_by,
        },
        positional=("person_id",),
    )
    record_step(app, case_id, "record_appointment", arg)


@click.command(cls=ZhCommand)
@click.argument("case_id", metavar="CASE")
@pass_app
def retry(app: App, case_id: str) -> None:
    """让受阻的案件重新尝试办理（例如补充日历数据之后）。"""
    record_step(app, case_id, "retry_blocked", RetryInput(actor=app.actor()))
