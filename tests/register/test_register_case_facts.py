"""The pure rules of a case's candidate named by the register: a typed fact that the register
says otherwise, the facts taken in with the case's own kept, what changed between two
readings, and a case file whose register candidates nobody read."""

from __future__ import annotations

from datetime import date

import pytest

from tests.workflows.scenarios import regular_case
from workflows.case_book import check_case_input
from workflows.rules.errors import RuleViolation
from workflows.rules.register_facts import (
    changed_facts,
    register_contradictions,
    register_sources,
    unread_register,
    with_register_facts,
)
from workflows.types import Candidate, Sanction, SanctionKind


def by_register(register_id: str, name: str, **facts: object) -> Candidate:
    """A candidate named by register id, as a door reads one (no person id of its own)."""
    return Candidate.model_validate({"register_id": register_id, "name": name, **facts})


WARNING = Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=date(2025, 3, 1))
DEMERIT = Sanction(kind=SanctionKind.STATE_DEMERIT, decided_on=date(2024, 1, 5))
REGISTER = Candidate(
    person_id="R1",
    name="李四",
    birth_date=date(1985, 4, 2),
    education="大学本科",
    sanctions=[WARNING, DEMERIT],
    on_probation=True,
)


def test_only_facts_typed_in_are_compared() -> None:
    typed = by_register("R1", "李四", short_cv="简历", promotion=False)
    assert typed.person_id == "R1"  # the register's id
    assert register_contradictions(typed, REGISTER, 3) == []


def test_a_typed_fact_that_agrees_is_taken_in_any_order() -> None:
    typed = by_register("R1", "李四", birth_date=date(1985, 4, 2), sanctions=[DEMERIT, WARNING])
    assert register_contradictions(typed, REGISTER, 3) == []


def test_each_contradiction_is_said() -> None:
    typed = Candidate(
        person_id="X9",
        register_id="R1",
        name="李四",
        birth_date=date(1985, 4, 3),
        sanctions=[],
        on_probation=False,
    )
    problems = register_contradictions(typed, REGISTER, 3)
    assert problems[0].startswith("人选 李四 的人员编号 X9 与名册编号 R1 不一致")
    assert (
        "人选 李四（R1）的「出生日期」与干部名册第 3 版不符：录入为 1985-04-03，名册为 1985-04-02"
        in problems[1]
    )
    assert "「处分」" in problems[2] and "录入为 无" in problems[2]
    assert "「正在试用期」" in problems[3] and "录入为 否，名册为 是" in problems[3]
    assert len(problems) == 4


def test_the_register_facts_are_taken_and_the_case_keeps_its_own() -> None:
    held = by_register("R1", "李四", short_cv="简历", promotion=False)
    now = with_register_facts(held, REGISTER, 3)
    assert (now.birth_date, now.education, now.on_probation) == (date(1985, 4, 2), "大学本科", True)
    assert (now.short_cv, now.promotion, now.register_id, now.register_version) == (
        "简历",
        False,
        "R1",
        3,
    )
    later = with_register_facts(now, REGISTER.model_copy(update={"education": "研究生"}), 4)
    assert changed_facts(now, later) == ["学历"]
    assert changed_facts(now, with_register_facts(now, REGISTER, 4)) == []
    assert register_sources([later, Candidate(person_id="p2", name="王五")]) == "李四（R1）第 4 版"


def test_a_case_file_whose_register_candidates_nobody_read_is_refused() -> None:
    unread = by_register("R1", "李四")
    assert unread_register([unread, Candidate(person_id="p2", name="王五")]) == ["李四"]
    case = regular_case("C-unread", people=[unread])
    with pytest.raises(RuleViolation) as refused:
        check_case_input(case, date(2026, 8, 3), 12)
    assert "人选李四引用了干部名册，但其信息未从名册读取" in refused.value.message
    read = regular_case("C-read", people=[with_register_facts(unread, REGISTER, 2)])
    check_case_input(read, date(2026, 8, 3), 12)


def test_a_typed_candidate_is_recorded_as_before() -> None:
    typed = Candidate(person_id="p1", name="张三")
    assert "register_id" not in typed.model_dump()
    assert "register_version" not in typed.model_dump(mode="json")
