"""Forms made from the wire models, pure: every step's input and a case survive the trip
to a form and back, and what cannot be read is reported in Chinese, naming the field."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from api.schemas import STEP_INPUTS
from tests.workflows.scenarios import (
    CLERK,
    HEAD,
    SECRETARY,
    TEAM,
    agree,
    appointment,
    exam_case,
    notice,
    person,
    registration,
    regular_case,
    scores,
    vote,
)
from web.forms import FormProblem, form_fields, form_values, parse_form, problems_of
from workflows.glossary import FIELDS, STEPS
from workflows.types import (
    AssignStepInput,
    CaseInput,
    DemocraticEvaluationInput,
    ExceptionalPromotion,
    ExtendDeadlineInput,
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
    RelationshipInput,
    RelationshipKind,
    RetryInput,
    Sanction,
    SanctionKind,
    SelectionMethod,
    SuspensionDecisionInput,
    VoteItem,
    WithdrawInput,
)

DAY = date(2026, 9, 9)

EXAMPLES: dict[str, BaseModel] = {
    "record_registration": registration(3),
    "record_written_test": scores(DAY, {"a1": 81.5, "a2": 60.0}),
    "record_interview": scores(DAY, {"a1": 90.0}),
    "record_investigation_notice": InvestigationNoticeInput(
        actor=CLERK, published_on=DAY, one_to_one_reason="等额，因为……\n第二行"
    ),
    "record_inspection_team": InspectionTeamInput(
        actor=CLERK, members=["李组长", "周干事"], started_on=DAY
    ),
    "record_inspection_check": InspectionCheckInput(
        actor=TEAM,
        person_id="p1",
        check=InspectionCheck.PETITIONS,
        completed_on=DAY,
        finding="未发现问题, 含逗号",
    ),
    "record_democratic_evaluation": DemocraticEvaluationInput(
        actor=TEAM,
        person_id="p1",
        held_on=DAY,
        participants=40,
        excellent=30,
        competent=8,
        basically_competent=2,
        incompetent=0,
    ),
    "record_inspection_report": InspectionReportInput(
        actor=TEAM, person_id="p2", submitted_on=DAY, summary="德才表现良好"
    ),
    "conclude_inspection": InspectionConclusionInput(
        actor=CLERK, concluded_on=DAY, proposed=["p1", "p2"]
    ),
    "record_higher_approval": HigherApprovalInput(
        actor=HEAD, person_id="p1", replied_on=DAY, approved=False, reference="组干字〔2026〕1号"
    ),
    "record_vote": vote(
        [agree("p1"), VoteItem(person_id="p2", defer=9, deferred_reason="事实待查清")]
    ),
    "record_public_notice": notice(),
    "record_objection": ObjectionInput(
        actor=CLERK,
        objection_id="O-1",
        person_id="p1",
        received_on=DAY,
        summary="反映内容",
        anonymous=True,
    ),
    "record_objection_verdict": ObjectionVerdictInput(
        actor=CLERK,
        objection_id="O-1",
        verified_on=DAY,
        outcome=ObjectionOutcome.MINOR_SHORTCOMINGS,
        finding="属一般性问题",
    ),
    "decide_suspension": SuspensionDecisionInput(
        actor=HEAD, person_id="p1", decided_on=DAY, appoint=True, reason="已查清"
    ),
    "record_appointment": appointment("p1"),
    "withdraw": WithdrawInput(actor=CLERK, reason="机构改革"),
    "declare_relationship": RelationshipInput(
        actor=CLERK,
        person_id="p1",
        related_name="周干事",
        relation=RelationshipKind.CLOSE_IN_LAW,
        declared_on=DAY,
    ),
    "extend_deadline": ExtendDeadlineInput(
        actor=HEAD, step="vote", working_days=3, reason="等待上级答复", decided_on=DAY
    ),
    "retry_blocked": RetryInput(actor=SECRETARY),
    "assign_step": AssignStepInput(actor=HEAD, step="vote", assignee="王科员", reason="熟悉情况"),
}


def test_every_step_has_an_example_a_title_and_labelled_fields() -> None:
    assert set(EXAMPLES) == set(STEP_INPUTS)
    assert set(STEPS) == set(STEP_INPUTS)
    for update, model in STEP_INPUTS.items():
        for f in form_fields(model):
            assert f.label != f.name.rsplit(".", 1)[-1] or f.name in FIELDS, (update, f.name)


@pytest.mark.parametrize("update", sorted(STEP_INPUTS))
def test_a_step_survives_the_trip_through_its_form(update: str) -> None:
    example = EXAMPLES[update]
    model = STEP_INPUTS[update]
    data = parse_form(model, form_values(example))
    back = model.model_validate({**data, "actor": example.actor})  # type: ignore[attr-defined]
    assert back == example


CASES = {
    "regular": regular_case("F-1"),
    "exam": exam_case("F-2", SelectionMethod.OPEN_SELECTION),
    "exceptional with a sanction": regular_case(
        "F-3",
        [
            person(
                "p1",
                "张三",
                exceptional=ExceptionalPromotion(reason="表现突出", levels_skipped=1),
                sanctions=[Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=date(2020, 1, 2))],
            ),
            person("p2", "李四", sex="女", party_member=True, birth_date=date(1985, 3, 4)),
        ],
    ),
    "a lateral move into a non-leading post": regular_case(
        "F-4", [person("p1", "张三", promotion=False), person("p2", "李四")], leading_post=False
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_case_survives_the_trip_through_the_start_form(name: str) -> None:
    case = CASES[name]
    skip = frozenset({"opened_by"})
    values = form_values(case, skip=skip)
    if name.startswith("exceptional"):  # a row's list and nested fields are cells of its table
        assert values["candidates.0.sanctions"] == "党内警告:2020-01-02"
        assert values["candidates.0.exceptional.levels_skipped"] == "1"
    data = parse_form(CaseInput, values, skip=skip)
    assert CaseInput.model_validate({**data, "opened_by": case.opened_by}) == case


def test_rows_name_their_columns_and_prefill_a_row_per_person() -> None:
    people = [("p1", "张三"), ("p2", "李四"), ("p3", "王五"), ("p4", "赵六")]
    [items] = [
        f for f in form_fields(STEP_INPUTS["record_vote"], people=people) if f.name == "items"
    ]
    assert items.kind == "rows" and items.sheet == "vote-items"
    assert items.columns[:5] == ["person_id", "agree", "disagree", "defer", "deferred_reason"]
    assert [h for h, _, _ in items.headers][:3] == ["人员编号", "同意票数", "不同意票数"]
    assert [row[0].value for row in items.cells] == ["p1", "p2", "p3", "p4"]
    assert items.cells[0][0].kind == "select" and items.cells[0][1].kind == "integer"
    assert items.cells[2][1].name == "items.2.agree"
    assert items.value == ""  # nothing pasted


def test_person_ids_are_chosen_from_the_case_and_enums_from_their_names() -> None:
    fields = {f.name: f for f in form_fields(InspectionCheckInput, people=[("p1", "张三")])}
    assert fields["person_id"].kind == "select"
    assert fields["person_id"].options == [("p1", "张三（p1）")]
    assert ("petitions", "信访举报") in fields["check"].options
    assert "actor" not in fields


def test_a_row_with_an_unknown_column_is_refused_naming_it() -> None:
    with pytest.raises(FormProblem, match="「colour」：不是可识别的列"):
        parse_form(STEP_INPUTS["record_vote"], {"items": "person_id,colour\np1,red"})


def test_a_row_longer_than_its_header_is_refused_naming_the_line() -> None:
    with pytest.raises(FormProblem, match="第 3 行"):
        parse_form(
            STEP_INPUTS["record_written_test"], {"scores": "person_id,score\na1,80\na2,70,9"}
        )


def test_json_rows_that_do_not_parse_are_refused() -> None:
    with pytest.raises(FormProblem, match="JSON 无法解析"):
        parse_form(STEP_INPUTS["record_written_test"], {"scores": "[{'a1': 80"})
    with pytest.raises(FormProblem, match="应填 是 或 否"):
        parse_form(
            STEP_INPUTS["record_registration"],
            {
                "applicants": "candidate.person_id,candidate.name,registered_on,qualified\n"
                "a1,张,2026-07-10,maybe"
            },
        )


def test_problems_are_told_in_chinese_with_the_field_and_row() -> None:
    model = STEP_INPUTS["record_written_test"]
    data = parse_form(model, {"held_on": "2026-13-40", "scores": "person_id,score\na1,99"})
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**data, "actor": CLERK})
    assert problems_of(caught.value) == ["日期：格式不对，应为 YYYY-MM-DD"]
    # a row is checked as it is read: its row and its column's header
    with pytest.raises(FormProblem) as bad_row:
        parse_form(model, {"scores.0.person_id": "a1", "scores.0.score": "101"})
    assert bad_row.value.problems == ["成绩（表格）第 1 行「成绩」：不能大于 100"]


def test_a_missing_required_field_is_reported_as_such() -> None:
    with pytest.raises(ValidationError) as caught:
        WithdrawInput.model_validate({**parse_form(WithdrawInput, {}), "actor": CLERK})
    assert problems_of(caught.value) == ["理由：必须填写"]


def test_the_start_form_asks_whether_the_post_is_leading_and_each_move_a_promotion() -> None:
    """Issue #16, class 6: a checked box, and a column left blank, keep the old reading."""
    fields = {f.name: f for f in form_fields(CaseInput, skip=frozenset({"opened_by"}))}
    leading = fields["leading_post"]
    assert (leading.kind, leading.label, leading.value) == ("checkbox", "拟任职务为领导职务", "on")
    headers = {h: note for h, note, _ in fields["candidates"].headers}
    assert headers["提拔任职"] == "是：提拔；否：平级交流；不填视为提拔"
    data = parse_form(
        CaseInput,
        {
            **form_values(regular_case("F-5"), skip=frozenset({"opened_by"})),
            "leading_post": "",
            "candidates.0.promotion": "否",
            "candidates.1.promotion": "",
        },
        skip=frozenset({"opened_by"}),
    )
    case = CaseInput.model_validate({**data, "opened_by": CLERK})
    assert not case.leading_post
    assert [c.promotion for c in case.candidates] == [False, True]
