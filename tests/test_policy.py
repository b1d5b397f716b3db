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
from activities.policy import PolicyActivities, read_policy
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
    assert p.version == "2026.4"
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
            "public_notice.working_days 为 3，但全国性规定要求至少 5 个工作日"
            "（任前公示不少于五个工作日）",
        ),
        (
            "suspension.max_months",
            4,
            "suspension.max_months 为 4，但全国性规定最多 3 个月（暂缓任用不超过三个月）",
        ),
        (
            "suspension.max_months",
            0,
            "suspension.max_months 为 0，但暂缓任用至少为 1 个月",
        ),
        (
            "inspection.team_min_size",
            1,
            "inspection.team_min_size 为 1，但全国性规定要求至少 2 人（考察组不少于两人）",
        ),
        (
            "recommendation.valid_months",
            18,
            "recommendation.valid_months 为 18，但全国性规定最多 12 个月（民主推荐结果一年内有效）",
        ),
        (
            "exam.ratio_into_inspection",
            1,
            "exam.ratio_into_inspection 为 1，但差额考察的考察对象须多于拟任职数，因此至少应为 2",
        ),
        (
            "impact_months.party_warning",
            6,
            "impact_months.party_warning 为 6，但全国性规定党内警告的影响期至少 12 个月",
        ),
        (
            "impact_months.accountability_removal",
            12,
            "impact_months.accountability_removal 为 12，但全国性规定"
            "问责（引咎辞职、责令辞职或免职）的影响期至少 24 个月",
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
        assert problem.startswith(f"impact_months.{kind.value} 为 {national - 1}，但")


@pytest.mark.parametrize("kind", ["admonishment", "organizational_handling"])
def test_local_impact_periods_are_required(kind):
    (problem,) = problems_of(changed((f"impact_months.{kind}", ...)))
    assert problem.startswith(f"缺少 impact_months.{kind}：")


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
    with pytest.raises(ValidationError, match="至少 5 个工作日"):
        Policy.model_validate(data)


# --------------------------------------------------------------------------- steps


def test_every_step_is_required():
    (problem,) = problems_of(changed(("steps.vote", ...)))
    assert problem == "缺少 steps.vote：案件的每个环节都须规定办理期限"


def test_unknown_step_is_refused():
    data = default_data()
    data["steps"]["votes"] = data["steps"]["vote"]
    (problem,) = problems_of(yaml.safe_dump(data))
    assert problem.startswith("steps.votes 不是案件的环节")


@pytest.mark.parametrize(
    ("reminders", "fragment"),
    [
        ([0], "中有 0，但提醒至少应在期限前 1 个工作日发出"),
        ([15], "中有 15，但办理期限只有 15 个工作日，提醒的天数应小于期限"),
        ([3, 3], "中 3 出现了不止一次"),
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
        "steps.registration.escalation 的 working_days_after 须逐级严格递增：3 排在 3 之后"
    )


# --------------------------------------------------------------------------- malformed


def test_malformed_yaml_is_refused():
    (problem,) = problems_of("exam: [written_weight: 0.4\n  oops")
    assert problem.startswith("test.yaml 不是有效的 YAML：")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text"])
def test_policy_must_be_a_mapping(text):
    (problem,) = problems_of(text)
    assert problem == "test.yaml 的最上层应为各项政策设置组成的映射（键: 值）"


def test_wrong_types_are_reported_field_by_field():
    problems = problems_of(
        changed(
            ("exam.written_weight", "forty"),
            ("reminder_hour", 25),
            ("steps.vote.responsible_role", "janitor"),
        )
    )
    assert "exam.written_weight：应为数字" in problems
    assert "reminder_hour：不能大于 23" in problems
    assert any(p.startswith("steps.vote.responsible_role：只能是以下之一：") for p in problems)
    assert len(problems) == 3


def test_missing_and_unknown_fields_are_refused():
    problems = problems_of(changed(("exam.tie_rule", ...), ("exam.tie_breaker", "written")))
    assert "exam.tie_rule：必须填写" in problems
    assert "exam.tie_breaker：不是可以填写的项目" in problems


@pytest.mark.parametrize("weight", [0, 1, 1.2])
def test_written_weight_strictly_between_0_and_1(weight):
    (problem,) = problems_of(changed(("exam.written_weight", weight)))
    assert problem.startswith(("exam.written_weight：应大于", "exam.written_weight：应小于"))


def test_unquoted_version_is_refused_rather_than_turned_into_a_number():
    (problem,) = problems_of(changed(("version", 2026.1)))
    assert problem.startswith("version：应为文字")


def test_investigation_notice_window_must_not_be_empty():
    (problem,) = problems_of(
        changed(("investigation_notice.max_working_days_before_inspection", 0))
    )
    assert problem.startswith("investigation_notice.max_working_days_before_inspection：")
    (problem,) = problems_of(
        changed(
            ("investigation_notice.min_working_days_before_inspection", 3),
            ("investigation_notice.max_working_days_before_inspection", 2),
        )
    )
    assert "小于 min_working_days_before_inspection（3）" in problem


def test_policy_error_pickles():
    e = pickle.loads(pickle.dumps(PolicyError(["a is wrong", "b is wrong"])))
    assert e.problems == ["a is wrong", "b is wrong"]
    assert str(e) == "a is wrong\nb is wrong"


def test_impossible_date_like_value_is_a_field_error_not_a_crash():
    (problem,) = problems_of(changed(("reminder_hour", ...)) + "reminder_hour: 2026-13-01\n")
    assert problem.startswith("reminder_hour：应为整数")


# --------------------------------------------------------------------------- the activity


async def test_load_policy_activity_reads_the_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT.read_text("utf-8"), "utf-8")
    snapshot = await PolicyActivities(path).load_policy(PolicyRequest(case_id="C1"))
    assert snapshot.policy.version == "2026.4"
    assert snapshot.source == str(path)
    assert snapshot.digest == hashlib.sha256(path.read_bytes()).hexdigest()


async def test_load_policy_activity_sees_a_changed_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT.read_text("utf-8"), "utf-8")
    activities = PolicyActivities(path)
    first = await activities.load_policy(PolicyRequest(case_id="C1"))
    path.write_text(changed(("version", "2026.5")), "utf-8")
    second = await activities.load_policy(PolicyRequest(case_id="C1"))
    assert (first.policy.version, second.policy.version) == ("2026.4", "2026.5")
    assert first.digest != second.digest


def test_each_reader_gets_a_policy_of_its_own(tmp_path):
    """The file's text is parsed once; what one reader does to its snapshot no other sees."""
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT.read_text("utf-8"), "utf-8")
    first, second = read_policy(path), read_policy(path)
    assert first == second and first is not second
    first.policy.reminder_hour = 23
    assert read_policy(path).policy.reminder_hour == second.policy.reminder_hour != 23


async def test_load_policy_activity_refuses_an_invalid_policy(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(changed(("public_notice.working_days", 3), ("inspection.team_min_size", 1)))
    with pytest.raises(ApplicationError) as e:
        await PolicyActivities(path).load_policy(PolicyRequest(case_id="C1"))
    assert e.value.type == "PolicyInvalid"
    assert e.value.non_retryable
    assert "public_notice.working_days 为 3" in e.value.message
    assert "inspection.team_min_size 为 1" in e.value.message
    (problems,) = e.value.details
    assert len(problems) == 2


async def test_load_policy_activity_refuses_a_missing_file(tmp_path):
    with pytest.raises(ApplicationError) as e:
        await PolicyActivities(tmp_path / "nope.yaml").load_policy(PolicyRequest(case_id="C1"))
    assert e.value.type == "PolicyInvalid"
    assert e.value.non_retryable
    assert "nope.yaml cannot be read" in e.value.message


def test_an_extension_approver_the_step_table_does_not_allow_is_refused() -> None:
    (problem,) = problems_of(changed(("extension.approver_roles", ["clerk"])))
    assert problem.startswith("extension.approver_roles 中的 clerk 不能批准延期")


def test_a_policy_without_extensions_loads_and_allows_none() -> None:
    snapshot = parse_policy(changed(("extension", ...)), "test.yaml")
    assert snapshot.policy.extension is None
