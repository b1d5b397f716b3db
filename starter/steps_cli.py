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


@click.group()
def exam() -> None:
    """Registration, written test and interview of an open selection or competitive case."""


CSV_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@exam.command("register")
@click.argument("case_id", metavar="CASE")
@click.argument("file", metavar="FILE.csv", type=CSV_FILE)
@click.option("--announced-on", type=DATE, required=True)
@click.option("--closed-on", type=DATE, required=True)
@pass_app
def exam_register(app: App, case_id: str, file: Path, announced_on: date, closed_on: date) -> None:
    """Record the applicants and the eligibility check (资格审查) from FILE.csv.

    Columns: person_id,name,sex,birth_date,current_post,current_rank,registered_on,qualified,
    reason; optional: sanctions (kind:YYYY-MM-DD;...), ethnicity, party_member, education,
    work_started_on, short_cv, last_promotion_on, on_probation, promotion (no for a lateral
    move; blank: a promotion). qualified and the flags are yes/no (是/否).
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
    @click.argument("file", metavar="FILE.csv", type=CSV_FILE)
    @click.option("--held-on", type=DATE, required=True)
    @pass_app
    def command(app: App, case_id: str, file: Path, held_on: date) -> None:
        actor = app.actor()
        scores = read_scores(file)
        arg = build(ExamScoresInput, {"actor": actor, "held_on": held_on, "scores": scores})
        record_step(app, case_id, update, arg)

    command.__doc__ = f"Record the {what} scores from FILE.csv (columns person_id,score)."
    return click.command()(command)


exam.add_command(_scores_command("record_written_test", "written test (笔试)"), "written")
exam.add_command(_scores_command("record_interview", "interview (面试)"), "interview")


# --------------------------------------------------------------------------- inspection


@click.group()
def inspection() -> None:
    """Investigation notice, the inspection team, its checks and its conclusion."""


@inspection.command("notice")
@click.argument("case_id", metavar="CASE")
@click.option("--published-on", type=DATE, required=True)
@click.option(
    "--one-to-one-reason",
    default="",
    help="why there are no more candidates than posts (等额), when so",
)
@pass_app
def inspection_notice(app: App, case_id: str, published_on: date, one_to_one_reason: str) -> None:
    """Record the publication of the investigation notice (考察预告)."""
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
@click.option("--member", "members", multiple=True, required=True, help="repeat for each member")
@click.option("--started-on", type=DATE, required=True)
@pass_app
def inspection_team(app: App, case_id: str, members: tuple[str, ...], started_on: date) -> None:
    """Record the inspection team (at least two) and the day it started."""
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
    """Record one of the four musts (凡提四必), or the economic audit, for PERSON."""
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
    """Record the democratic evaluation (民主测评) of PERSON."""
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
    """Record the inspection report on PERSON."""
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
    help="a person put to the standing committee; repeat for each",
)
@click.option("--concluded-on", type=DATE, required=True)
@pass_app
def inspection_conclude(
    app: App, case_id: str, proposed: tuple[str, ...], concluded_on: date
) -> None:
    """Conclude the inspection: who goes to the standing committee."""
    arg = build(
        InspectionConclusionInput,
        {"actor": app.actor(), "proposed": list(proposed), "concluded_on": concluded_on},
    )
    record_step(app, case_id, "conclude_inspection", arg)


# --------------------------------------------------------------------------- approval, vote


@click.group()
def approval() -> None:
    """The higher-level organization department's reply (exceptional promotion, 破格提拔)."""


@approval.command("record")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--replied-on", type=DATE, required=True)
@click.option("--approved/--refused", default=None, help="the reply (one of the two is required)")
@click.option("--reference", required=True, help="the reply's document number")
@pass_app
def approval_record(
    app: App,
    case_id: str,
    person_id: str,
    replied_on: date,
    approved: bool | None,
    reference: str,
) -> None:
    """Record the higher level's reply about PERSON."""
    if approved is None:
        raise InputError("say what the reply was: --approved or --refused")
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


@click.group()
def vote() -> None:
    """The standing-committee vote (常委会票决)."""


@vote.command("record")
@click.argument("meeting_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def vote_record(app: App, meeting_file: Path) -> None:
    """Record a meeting and the votes on the items of every case decided at it.

    The whole file is checked first (quorum, each item's tallies); if anything is wrong,
    nothing is sent.
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
        f"meeting {meeting.meeting_id} of {meeting.held_on}: {meeting.present} of "
        f"{meeting.members} present, {len(file.items)} item(s) in {len(sends)} case(s)"
    )
    record_many(app, "record_vote", sends)


# --------------------------------------------------------------------------- notice


@click.group()
def notice() -> None:
    """The pre-appointment public notice (任前公示), objections and suspensions."""


@notice.command("publish")
@click.argument("notice_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def notice_publish(app: App, notice_file: Path) -> None:
    """Record a published notice for each case it covers."""
    actor = app.actor()
    file = load_model(NoticeFile, notice_file)
    repeated = sorted({c for c in file.case_ids if file.case_ids.count(c) > 1})
    if repeated:
        raise InputError(f"{notice_file}: case_ids lists {', '.join(repeated)} more than once")
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
    """Record an objection (反映) about PERSON received during the notice."""
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
    help="the same verdict for this objection too (about the same person); repeatable",
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
    """Record the verification of an objection (and of identical ones, with --same-for)."""
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
@click.option("--appoint/--not-appoint", default=None, help="the decision (one is required)")
@click.option("--reason", required=True)
@pass_app
def notice_suspension(
    app: App, case_id: str, person_id: str, decided_on: date, appoint: bool | None, reason: str
) -> None:
    """Decide a suspended appointment (暂缓任用) of PERSON."""
    if appoint is None:
        raise InputError("say what was decided: --appoint or --not-appoint")
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


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--notice-issued-on", type=DATE, required=True, help="任职通知")
@click.option("--talk-held-on", type=DATE, required=True, help="任职谈话")
@click.option("--talk-by", required=True, help="who held the talk")
@pass_app
def appoint(
    app: App,
    case_id: str,
    person_id: str,
    notice_issued_on: date,
    talk_held_on: date,
    talk_by: str,
) -> None:
    """Record the appointment of PERSON: the notice issued and the talk held."""
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


@click.command()
@click.argument("case_id", metavar="CASE")
@pass_app
def retry(app: App, case_id: str) -> None:
    """Ask a blocked case to try again (e.g. after the calendar supplement was updated)."""
    record_step(app, case_id, "retry_blocked", RetryInput(actor=app.actor()))
