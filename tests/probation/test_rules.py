"""The probation's dates and its section of the local policy."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from tests.probation.conftest import DEFAULT_POLICY
from workflows.policy import PolicyError, parse_policy
from workflows.probation_letters import reminder_mail
from workflows.probation_types import (
    ProbationState,
    probation_end,
    probation_workflow_id,
    review_opens_on,
)
from workflows.types import Role


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (date(2026, 3, 1), date(2027, 2, 28)),
        (date(2026, 11, 26), date(2027, 11, 25)),
        (date(2027, 3, 1), date(2028, 2, 29)),  # the year holds a 29 February
        (date(2028, 2, 29), date(2029, 2, 28)),  # begun on 29 February
        (date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_the_year_ends_the_day_before_its_anniversary(starts: date, ends: date) -> None:
    assert probation_end(starts) == ends


def test_the_review_window_and_the_workflow_id() -> None:
    assert review_opens_on(date(2027, 11, 25), 30) == date(2027, 10, 26)
    assert probation_workflow_id("C-1", "P7") == "probation:C-1:P7"


def test_the_default_policy_has_a_probation_section() -> None:
    p = parse_policy(DEFAULT_POLICY.read_text("utf-8"), "d").policy.probation
    assert p.reminder_days_before_end == [60, 30, 7, 0]
    assert p.review_window_days_before_end == 30
    assert p.review_roles == [Role.DEPARTMENT_HEAD]
    assert [r.role for r in p.review.escalation] == [
        Role.DEPARTMENT_HEAD,
        Role.COMMITTEE_SECRETARY,
    ]
    assert p.recipients[Role.DEPARTMENT_HEAD] == "buzhang@zzb.example"
    assert (p.digest.hour, p.digest.days_ahead) == (8, 14)


def test_a_policy_without_a_probation_section_still_loads() -> None:
    """Policies written before probation existed, and the snapshots running cases recorded."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    del data["probation"]
    p = parse_policy(yaml.safe_dump(data, allow_unicode=True), "old").policy
    assert p.probation.reminder_days_before_end == [60, 30, 7, 0]
    assert p.probation.recipients == {}


def _problems(**changes: Any) -> list[str]:
    data = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    data["probation"].update(changes)
    with pytest.raises(PolicyError) as refused:
        parse_policy(yaml.safe_dump(data, allow_unicode=True), "t")
    return refused.value.problems


def test_bad_probation_values_are_refused_each_with_its_reason() -> None:
    assert _problems(reminder_days_before_end=[60, 30, 30, 400]) == [
        "probation.reminder_days_before_end 中有 400，但提醒须在试用期内："
        "从届满前 364 天到届满当天（0）",
        "probation.reminder_days_before_end 中 30 出现了不止一次",
    ]
    assert _problems(review_roles=[]) == ["probation.review_roles 是空的：至少应写一个角色"]
    assert _problems(recipients={"clerk": "not an address"}) == [
        "probation.recipients.clerk 为 'not an address'，不是有效的邮件地址"
    ]
    ladder = [
        {"role": "department_head", "working_days_after": 3},
        {"role": "committee_secretary", "working_days_after": 3},
    ]
    (problem,) = _problems(
        review={
            "responsible_role": "section_chief",
            "deadline_working_days": 10,
            "escalation": ladder,
        }
    )
    assert problem.startswith("probation.review.escalation 的 working_days_after 须逐级严格递增")
    (problem,) = _problems(review_window_days_before_end=400)
    assert problem.startswith("probation.review_window_days_before_end：不能大于")


def test_the_reminder_mail_names_the_case_person_post_and_due_date() -> None:
    s = ProbationState(
        probation_id="probation-C-1-P1",
        case_id="C-1",
        person_id="P1",
        name="张三",
        unit="县民政局",
        post="副局长",
        starts_on=date(2026, 11, 26),
        ends_on=date(2027, 11, 25),
        review_opens_on=date(2027, 10, 26),
    )
    subject, body = reminder_mail(s, 7)
    assert subject == "试用期提醒：张三（县民政局副局长）试用期将于 2027-11-25 届满（还有7天）"
    for line in ("案件编号：C-1", "人员：张三（P1）", "试任职务：副局长", "到期日：2027-11-25"):
        assert line in body.splitlines()
    assert "今日届满" in reminder_mail(s, 0)[0]
