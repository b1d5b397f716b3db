"""A register record as a case's candidate facts on a day: the edges of a post, a sanction,
a probation and a promotion."""

from __future__ import annotations

from datetime import date

from workflows.register_types import PersonFacts, PersonRecord, PostHeld
from workflows.rules.eligibility import eligibility_problems
from workflows.rules.register_facts import candidate_as_of
from workflows.types import Sanction, SanctionKind

PERSON = PersonFacts(person_id="R001", name="李四", sex="男", birth_date=date(1985, 4, 2))
OLD = PostHeld(
    unit="城关镇",
    township="城关镇",
    post="党政办主任",
    rank="一级主任科员",
    started_on=date(2015, 3, 1),
    ended_on=date(2024, 6, 30),
)
NEW = PostHeld(
    unit="县发展和改革局",
    post="副局长",
    rank="副科级",
    leading=True,
    started_on=date(2024, 7, 1),
    promotion=True,
    probation_ends_on=date(2025, 6, 30),
)
RECORD = PersonRecord(
    person=PERSON,
    posts=[OLD, NEW],
    sanctions=[Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=date(2025, 3, 1))],
)


def test_the_post_ending_the_day_before_is_no_longer_held() -> None:
    on_last_day = candidate_as_of(RECORD, date(2024, 6, 30))
    assert on_last_day.current_post == "城关镇党政办主任"
    assert on_last_day.current_rank == "一级主任科员"
    next_day = candidate_as_of(RECORD, date(2024, 7, 1))
    assert next_day.current_post == "县发展和改革局副局长"
    assert next_day.current_rank == "副科级"


def test_a_promotion_counts_from_its_first_day() -> None:
    assert candidate_as_of(RECORD, date(2024, 6, 30)).last_promotion_on is None
    assert candidate_as_of(RECORD, date(2024, 7, 1)).last_promotion_on == date(2024, 7, 1)


def test_the_probation_runs_to_its_last_day() -> None:
    assert candidate_as_of(RECORD, date(2025, 6, 30)).on_probation
    assert not candidate_as_of(RECORD, date(2025, 7, 1)).on_probation
    assert not candidate_as_of(RECORD, date(2024, 6, 30)).on_probation


def test_a_sanction_is_a_fact_from_the_day_decided_and_bars_for_its_period() -> None:
    months = {SanctionKind.ADMONISHMENT: 6, SanctionKind.ORGANIZATIONAL_HANDLING: 12}
    before = candidate_as_of(RECORD, date(2025, 2, 28))
    assert before.sanctions == []
    assert eligibility_problems(before, date(2025, 2, 28), months) == []
    decided = candidate_as_of(RECORD, date(2025, 3, 1))
    assert [s.kind for s in decided.sanctions] == [SanctionKind.PARTY_WARNING]
    assert eligibility_problems(decided, date(2025, 3, 1), months)
    last_barred = candidate_as_of(RECORD, date(2026, 2, 28))
    assert eligibility_problems(last_barred, date(2026, 2, 28), months)
    free = candidate_as_of(RECORD, date(2026, 3, 1))
    assert eligibility_problems(free, date(2026, 3, 1), months) == []


def test_the_persons_own_facts_and_the_cases_promotion_are_carried() -> None:
    c = candidate_as_of(RECORD, date(2026, 1, 1), promotion=False)
    assert (c.person_id, c.name, c.sex, c.birth_date) == ("R001", "李四", "男", date(1985, 4, 2))
    assert c.promotion is False


def test_before_any_post_there_is_no_current_post() -> None:
    c = candidate_as_of(RECORD, date(2015, 2, 28))
    assert (c.current_post, c.current_rank, c.last_promotion_on) == ("", "", None)
