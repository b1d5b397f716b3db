import hashlib
import pickle
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from activities.calendar import build_calendar
from activities.policy import PolicyActivities
from workflows.policy import (
    STEP_NAMES,
    Policy,
    PolicyError,
    PolicySnapshot,
    parse_policy,
)
from workflows.rules.dates import add_months
from workflows.rules.eligibility import NATIONAL_IMPACT_MONTHS
from workflows.rules.exam import TieRule
from workflows.types import PolicyRequest, Role, SanctionKind

DEFAULT = Path(__file__).resolve().parent.parent / "policy" / "default.yaml"


def default_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT.read_text("utf-8"))


def changed(*changes: tuple[str, Any]) -> str:
    """The default policy's text with dotted paths set (a value of ... deletes the key)."""
    data = default_data()
    for dotted, value in changes:
        *parents, last = dotted.split(".")
        node = data
        for p in parents:
            node = node[p]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return yaml.safe_dump(data, allow_unicode=True)


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as e:
        parse_policy(text, "test.yaml")
    assert str(e.value) == "\n".join(e.value.problems)
    return e.value.problems


# --------------------------------------------------------------------------- the default


def test_default_policy_loads():
    text = DEFAULT.read_text("utf-8")
    snapshot = parse_policy(text, "policy/default.yaml")
    assert isinstance(snapshot, PolicySnapshot)
    assert snapshot.digest == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert snapshot.source == "policy/default.yaml"
    p = snapshot.policy
    assert p.version == "2026.1"
    assert p.exam.written_weight == 0.4
    assert (p.exam.written_pass_mark, p.exam.interview_pass_mark) == (60, 60)
    assert (p.exam.ratio_into_interview, p.exam.ratio_into_inspection) == (5, 3)
    assert p.exam.tie_rule is TieRule.WRITTEN_THEN_INTERVIEW
    assert p.public_notice.working_days == 5
    assert p.suspension.max_months == 3
    assert p.inspection.team_min_size == 2
    assert p.recommendation.valid_months == 12
    assert p.reminder_hour == 9
    assert set(p.steps) == set(STEP_NAMES)
    assert p.step("higher_approval").deadline_working_days == 10
    assert p.step("inspection").responsible_role is Role.INSPECTION_TEAM
    assert p.step("vote").responsible_role is Role.COMMITTEE_SECRETARY


def test_impact_months_all_merges_national_and_local():
    p = parse_policy(DEFAULT.read_text("utf-8"), "d").policy
    months = p.impact_months_all()
    assert set(months) == set(SanctionKind)
    assert months[SanctionKind.ADMONISHMENT] == 6
    assert months[SanctionKind.ORGANIZATIONAL_HANDLING] == 12
    for kind, national in NATIONAL_IMPACT_MONTHS.items():
        assert months[kind] == national
    longer = parse_policy(changed(("impact_months.party_warning", 18)), "d").policy
    assert longer.impact_months_all()[SanctionKind.PARTY_WARNING] == 18


def test_snapshot_round_trips_through_json():
    snapshot = parse_policy(DEFAULT.read_text("utf-8"), "d")
    assert PolicySnapshot.model_validate_json(snapshot.model_dump_json()) == snapshot


def test_default_suspension_decision_escalates_within_the_national_three_months():
    policy = parse_policy(DEFAULT.read_text("utf-8"), "d").policy
    timing = policy.step("suspension_decision")
    last = timing.deadline_working_days + max(r.working_days_after for r in timing.escalation)
    cal = build_calendar(None)
    d = date(2004, 1, 1)
    while d < date(2026, 8, 1):
        assert cal.add_working_days(d, last) <= add_months(d, policy.suspension.max_months), d
        d += timedelta(days=1)


# --------------------------------------------------------------------------- national floors


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "public_notice.working_days",
            3,
            "public_notice.working_days is 3, but the national rule requires at least 5 "
            "working days (任前公示不少于五个工作日)",
        ),
        (
            "suspension.max_months",
            4,
            "suspension.max_months is 4, but the national rule allows at most 3 months "
            "(暂缓任用不超过三个月)",
        ),
        (
            "suspension.max_months",
            0,
            "suspension.max_months is 0, but a suspension lasts at least 1 month",
        ),
        (
            "inspection.team_min_size",
            1,
            "inspection.team_min_size is 1, but the national rule requires at least 2 people "
            "(考察组不少于两人)",
        ),
        (
            "recommendation.valid_months",
            18,
            "recommendation.valid_months is 18, but the national rule allows at most 12 months "
            "(民主推荐结果一年内有效)",
        ),
        (
            "exam.ratio_into_inspection",
            1,
            "exam.ratio_into_inspection is 1, but a competitive inspection (差额考察) needs more "
            "candidates than posts, so at least 2",
        ),
        (
            "impact_months.party_warning",
            6,
            "impact_months.party_warning is 6, but the national rule requires at least 12 "
            "months for a Party warning (警告)",
        ),
        (
            "impact_months.accountability_removal",
            12,
            "impact_months.accountability_removal is 12, but the national rule requires at "
            "least 24 months for a removal from post by accountability (问责)",
        ),
    ],
)
def test_a_looser_national_value_is_refused(path, value, message):
    assert problems_of(changed((path, value))) == [message]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("public_notice.working_days", 7),
        ("suspension.max_months", 1),
        ("inspection.team_min_size", 3),
        ("recommendation.valid_months", 6),
        ("exam.ratio_into_inspection", 2),
        ("impact_months.state_dismissal", 36),
    ],
)
def test_a_stricter_value_is_accepted(path, value):
    parse_policy(changed((path, value)), "test.yaml")


def test_every_national_impact_period_is_a_floor():
    for kind, national in NATIONAL_IMPACT_MONTHS.items():
        parse_policy(changed((f"impact_months.{kind.value}", national)), "t")
        (problem,) = problems_of(changed((f"impact_months.{kind.value}", national - 1)))
        assert problem.startswith(f"impact_months.{kind.value} is {national - 1}, but")


@pytest.mark.parametrize("kind", ["admonishment", "organizational_handling"])
def test_local_impact_periods_are_required(kind):
    (problem,) = problems_of(changed((f"impact_months.{kind}", ...)))
    assert problem.startswith(f"impact_months.{kind} is missing")


def test_all_problems_are_reported_together():
    problems = problems_of(
        changed(
            ("public_notice.working_days", 3),
            ("inspection.team_min_size", 1),
            ("suspension.max_months", 6),
        )
    )
    assert len(problems) == 3


def test_policy_built_in_code_is_checked_too():
    data = default_data()
    data["public_notice"]["working_days"] = 4
    with pytest.raises(ValidationError, match="at least 5 working days"):
        Policy.model_validate(data)


# --------------------------------------------------------------------------- steps


def test_every_step_is_required():
    (problem,) = problems_of(changed(("steps.vote", ...)))
    assert problem == "steps.vote is missing: every step of a case needs a deadline"


def test_unknown_step_is_refused():
    data = default_data()
    data["steps"]["votes"] = data["steps"]["vote"]
    (problem,) = problems_of(yaml.safe_dump(data))
    assert problem.startswith("steps.votes is not a step of a case")


@pytest.mark.parametrize(
    ("reminders", "fragment"),
    [
        ([0], "has 0, but a reminder comes at least 1 working day before the deadline"),
        ([15], "has 15, but the deadline is 15 working days, so a reminder must be fewer"),
        ([3, 3], "lists 3 more than once"),
    ],
)
def test_reminders_must_be_positive_distinct_and_before_the_deadline(reminders, fragment):
    (problem,) = problems_of(changed(("steps.vote.reminders_working_days_before", reminders)))
    assert problem == f"steps.vote.reminders_working_days_before {fragment}"


def test_escalation_must_climb():
    ladder = [
        {"role": "section_chief", "working_days_after": 3},
        {"role": "department_head", "working_days_after": 3},
    ]
    (problem,) = problems_of(changed(("steps.registration.escalation", ladder)))
    assert problem == (
        "steps.registration.escalation must climb in strictly increasing working_days_after: "
        "3 follows 3"
    )


# --------------------------------------------------------------------------- malformed


def test_malformed_yaml_is_refused():
    (problem,) = problems_of("exam: [written_weight: 0.4\n  oops")
    assert problem.startswith("test.yaml is not valid YAML:")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text"])
def test_policy_must_be_a_mapping(text):
    (problem,) = problems_of(text)
    assert problem == "test.yaml must hold a mapping of policy settings at the top level"


def test_wrong_types_are_reported_field_by_field():
    problems = problems_of(
        changed(
            ("exam.written_weight", "forty"),
            ("reminder_hour", 25),
            ("steps.vote.responsible_role", "janitor"),
        )
    )
    assert any(
        p.startswith("exam.written_weight: Input should be a valid number") for p in problems
    )
    assert any(
        p.startswith("reminder_hour: Input should be less than or equal to 23") for p in problems
    )
    assert any(p.startswith("steps.vote.responsible_role: Input should be") for p in problems)
    assert len(problems) == 3


def test_missing_and_unknown_fields_are_refused():
    problems = problems_of(changed(("exam.tie_rule", ...), ("exam.tie_breaker", "written")))
    assert "exam.tie_rule: Field required" in problems
    assert "exam.tie_breaker: Extra inputs are not permitted" in problems


@pytest.mark.parametrize("weight", [0, 1, 1.2])
def test_written_weight_strictly_between_0_and_1(weight):
    (problem,) = problems_of(changed(("exam.written_weight", weight)))
    assert problem.startswith("exam.written_weight: Input should be")


def test_unquoted_version_is_refused_rather_than_turned_into_a_number():
    (problem,) = problems_of(changed(("version", 2026.1)))
    assert problem.startswith("version: Input should be a valid string")


def test_investigation_notice_window_must_not_be_empty():
    (problem,) = problems_of(
        changed(("investigation_notice.max_working_days_before_inspection", 0))
    )
    assert problem.startswith("investigation_notice.max_working_days_before_inspection:")
    (problem,) = problems_of(
        changed(
            ("investigation_notice.min_working_days_before_inspection", 3),
            ("investigation_notice.max_working_days_before_inspection", 2),
        )
    )
    assert "below min_working_days_before_inspection (3)" in problem


def test_policy_error_pickles():
    e = pickle.loads(pickle.dumps(PolicyError(["a is wrong", "b is wrong"])))
    assert e.problems == ["a is wrong", "b is wrong"]
    assert str(e) == "a is wrong\nb is wrong"


def test_impossible_date_like_value_is_a_field_error_not_a_crash():
    (problem,) = problems_of(changed(("reminder_hour", ...)) + "reminder_hour: 2026-13-01\n")
    assert problem.startswith("reminder_hour: Input should be a valid integer")


# --------------------------------------------------------------------------- the activity


async def test_load_policy_activity_reads_the_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT.read_text("utf-8"), "utf-8")
    snapshot = await PolicyActivities(path).load_policy(PolicyRequest(case_id="C1"))
    assert snapshot.policy.version == "2026.1"
    assert snapshot.source == str(path)
    assert snapshot.digest == hashlib.sha256(path.read_bytes()).hexdigest()


async def test_load_policy_activity_sees_a_changed_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT.read_text("utf-8"), "utf-8")
    activities = PolicyActivities(path)
    first = await activities.load_policy(PolicyRequest(case_id="C1"))
    path.write_text(changed(("version", "2026.2")), "utf-8")
    second = await activities.load_policy(PolicyRequest(case_id="C1"))
    assert (first.policy.version, second.policy.version) == ("2026.1", "2026.2")
    assert first.digest != second.digest


async def test_load_policy_activity_refuses_an_invalid_policy(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(changed(("public_notice.working_days", 3), ("inspection.team_min_size", 1)))
    with pytest.raises(ApplicationError) as e:
        await PolicyActivities(path).load_policy(PolicyRequest(case_id="C1"))
    assert e.value.type == "PolicyInvalid"
    assert e.value.non_retryable
    assert "public_notice.working_days is 3" in e.value.message
    assert "inspection.team_min_size is 1" in e.value.message
    (problems,) = e.value.details
    assert len(problems) == 2


async def test_load_policy_activity_refuses_a_missing_file(tmp_path):
    with pytest.raises(ApplicationError) as e:
        await PolicyActivities(tmp_path / "nope.yaml").load_policy(PolicyRequest(case_id="C1"))
    assert e.value.type == "PolicyInvalid"
    assert e.value.non_retryable
    assert "nope.yaml cannot be read" in e.value.message
