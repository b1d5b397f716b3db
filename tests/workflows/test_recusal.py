"""Recusal (回避) on the time-skipping server (issue #16, class 7): a team with a member
related to a candidate is refused, as is a vote whose related member present did not
withdraw; a vote recording its withdrawals is decided on the members entitled to vote."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import (
    CLERK,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
    NOTICE_DAY,
    NOTICE_ENDS,
    SECRETARY,
    TEAM,
    agree,
    inspect,
    notice,
    regular_case,
    vote,
)
from tests.workflows.test_paths import refused
from workflows.types import (
    Actor,
    CandidateStatus,
    CaseStage,
    CaseStatus,
    DeclaredRelationship,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Meeting,
    ObjectionInput,
    ObjectionOutcome,
    ObjectionVerdictInput,
    RelationshipInput,
    RelationshipKind,
    Role,
    VoteInput,
    VoteItem,
    VoteMethod,
    VoteResult,
)

ATTENDEES = [f"常委{i}" for i in range(1, 10)]  # nine of eleven present


def kin(name: str, kind: RelationshipKind, pid: str = "p1") -> DeclaredRelationship:
    return DeclaredRelationship(person_id=pid, related_name=name, relation=kind)


def the_vote(agree: int, withdrawn: list[str], attendees: list[str] = ATTENDEES) -> VoteInput:
    stay = 9 - len(withdrawn)
    return VoteInput(
        actor=SECRETARY,
        meeting=Meeting(
            meeting_id="M1",
            held_on=MEETING_DAY,
            members=11,
            present=9,
            method=VoteMethod.SECRET_BALLOT,
            attendees=attendees,
        ),
        items=[VoteItem(person_id="p1", agree=agree, disagree=stay - agree, withdrawn=withdrawn)],
    )


async def inputs(runner: CaseRunner, case_id: str) -> list[Any]:
    return [e for e in await runner.events(case_id) if e.kind == "input"]


async def test_a_team_with_a_related_member_is_refused(runner: CaseRunner) -> None:
    """周干事 is 张三's brother-in-law (declared in the case file): he cannot inspect 张三."""
    case = regular_case("kin-team", relationships=[kin("周干事", RelationshipKind.CLOSE_IN_LAW)])
    h = await runner.start(case)
    await runner.update(
        h,
        "record_investigation_notice",
        InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE),
    )
    team = InspectionTeamInput(
        actor=CLERK, members=[TEAM.name, "周干事"], started_on=INSPECTION_START
    )
    message = await refused(runner, h, "record_inspection_team", team)
    assert message == (
        "考察组成员与考察对象有亲属关系，应当回避：周干事与张三有近姻亲关系。请调整考察组成员"
    )
    state = await runner.state(h)
    assert "inspection_started" not in state.dates and state.inspection_team == []
    assert not [e for e in await inputs(runner, "kin-team") if "开始考察" in e.summary]
    other = team.model_copy(update={"members": [TEAM.name, "吴干事"]})
    state = await runner.update(h, "record_inspection_team", other)
    assert state.inspection_team == [TEAM.name, "吴干事"]


async def test_a_kinship_declared_later_refuses_the_team_and_the_recorder(
    runner: CaseRunner,
) -> None:
    h = await runner.start(regular_case("kin-later"))
    declared = RelationshipInput(
        actor=CLERK,
        person_id="p2",
        related_name="周干事",
        relation=RelationshipKind.COLLATERAL,
        declared_on=date(2026, 9, 1),
    )
    state = await runner.update(h, "declare_relationship", declared)
    assert state.relationships == [kin("周干事", RelationshipKind.COLLATERAL, "p2")]
    [event] = [e for e in await inputs(runner, "kin-later") if "申报亲属关系" in e.summary]
    assert event.summary.startswith("2026-09-01 申报亲属关系：周干事与李四有三代以内旁系血亲关系")
    assert event.payload["person_id"] == "p2"
    assert await refused(runner, h, "declare_relationship", declared) == (
        "周干事与李四的三代以内旁系血亲关系已经申报"
    )
    # the clerk who is 李四's spouse cannot publish the notice naming him
    spouse = declared.model_copy(
        update={"related_name": CLERK.name, "relation": RelationshipKind.SPOUSE}
    )
    await runner.update(h, "declare_relationship", spouse)
    notice = InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE)
    assert await refused(runner, h, "record_investigation_notice", notice) == (
        f"{CLERK.name}与李四有夫妻关系，应当回避，不能办理「发布考察预告」；请由其他工作人员办理"
    )
    other = notice.model_copy(update={"actor": CLERK.model_copy(update={"name": "赵科员"})})
    state = await runner.update(h, "record_investigation_notice", other)
    assert state.stage is CaseStage.INSPECTION
    team = InspectionTeamInput(
        actor=other.actor, members=["周干事", TEAM.name], started_on=INSPECTION_START
    )
    assert "周干事与李四有三代以内旁系血亲关系" in await refused(
        runner, h, "record_inspection_team", team
    )


async def vote_case(runner: CaseRunner, case_id: str) -> Any:
    """张三 (p1) is the spouse of 常委1 and the nephew of 常委2, both at the meeting."""
    relationships = [
        kin("常委1", RelationshipKind.SPOUSE),
        kin("常委2", RelationshipKind.COLLATERAL),
    ]
    h = await runner.start(regular_case(case_id, relationships=relationships))
    state = await inspect(runner, h, ["p1", "p2"], ["p1"])
    assert state.stage is CaseStage.VOTE
    return h


async def test_a_vote_where_a_related_member_did_not_withdraw_is_refused(
    runner: CaseRunner,
) -> None:
    h = await vote_case(runner, "kin-vote-refused")
    message = await refused(runner, h, "record_vote", the_vote(6, ["常委1"]))
    assert message == (
        "到会成员常委2（三代以内旁系血亲关系）与张三有亲属关系，应当回避对张三的讨论和表决，"
        "但表决记录未登记其回避"
    )
    assert "请登记到会成员名单" in await refused(runner, h, "record_vote", the_vote(6, [], []))
    state = await runner.state(h)
    assert state.stage is CaseStage.VOTE and "last_meeting" not in state.dates
    assert not [e for e in await inputs(runner, "kin-vote-refused") if "常委会会议" in e.summary]


async def test_a_vote_with_its_withdrawals_passes_on_the_entitled_members(
    runner: CaseRunner,
) -> None:
    """5 of the 9 entitled agree: more than half of them, though not of all eleven."""
    h = await vote_case(runner, "kin-vote-passed")
    state = await runner.update(h, "record_vote", the_vote(5, ["常委1", "常委2"]))
    p1 = state.candidates[0]
    assert (p1.vote, p1.status) == (VoteResult.PASSED, CandidateStatus.ON_NOTICE)
    assert state.stage is CaseStage.PUBLIC_NOTICE
    [event] = [e for e in await inputs(runner, "kin-vote-passed") if "常委会会议" in e.summary]
    assert (
        "张三：通过：应到 11 人，回避 2 人（常委1、常委2），计 9 人，同意 5 人，至少须 5 人同意"
        in (event.summary)
    )
    assert event.payload["items"][0]["withdrawn"] == ["常委1", "常委2"]


async def test_a_vote_with_its_withdrawals_fails_on_the_entitled_members(
    runner: CaseRunner,
) -> None:
    h = await vote_case(runner, "kin-vote-failed")
    state = await runner.update(h, "record_vote", the_vote(4, ["常委1", "常委2"]))
    p1 = state.candidates[0]
    assert (p1.vote, p1.status) == (VoteResult.FAILED, CandidateStatus.VOTE_FAILED)
    assert (
        p1.note
        == "未通过：应到 11 人，回避 2 人（常委1、常委2），计 9 人，同意 4 人，至少须 5 人同意"
    )
    assert state.status is CaseStatus.NOT_APPOINTED


async def test_a_related_clerk_cannot_record_the_notice_its_verdicts_or_a_suspension(
    runner: CaseRunner,
) -> None:
    """王科员 declares at the notice stage that 张三 is his spouse: from then on another clerk
    publishes the notice and records the objection's verdict, and the head decides."""
    h = await runner.start(regular_case("kin-notice"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    await runner.update(h, "record_vote", vote([agree("p1")]))
    declared = RelationshipInput(
        actor=CLERK,
        person_id="p1",
        related_name=CLERK.name,
        relation=RelationshipKind.SPOUSE,
        declared_on=NOTICE_DAY,
    )
    await runner.update(h, "declare_relationship", declared)
    assert "回避" in await refused(runner, h, "record_public_notice", notice())
    other = Actor(name="孙科员", role=Role.CLERK)
    await runner.update(h, "record_public_notice", notice().model_copy(update={"actor": other}))
    objection = ObjectionInput(
        actor=other, objection_id="O1", person_id="p1", received_on=NOTICE_DAY, summary="举报"
    )
    await runner.update(h, "record_objection", objection)
    verdict = ObjectionVerdictInput(
        actor=CLERK,
        objection_id="O1",
        verified_on=NOTICE_ENDS,
        outcome=ObjectionOutcome.NO_PROBLEM,
        finding="经核查不属实",
    )
    assert "回避" in await refused(runner, h, "record_objection_verdict", verdict)
    state = await runner.update(
        h, "record_objection_verdict", verdict.model_copy(update={"actor": other})
    )
    assert state.stage is CaseStage.APPOINTMENT
    recorded = [e.actor_name for e in await inputs(runner, "kin-notice")]
    assert recorded[-3:] == [other.name, other.name, other.name]
