"""Every word a page shows has its Chinese: each value of each enum the pages display, each
step, each kind of recorded event, and each thing a case can wait for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.schemas import STEP_INPUTS
from workflows import case_book
from workflows.glossary import AWAITED, BY_ENUM, DATES, EVENT_KINDS, STEPS, awaited, zh, zh_recorded
from workflows.types import CaseStage, Role

BOOK = Path(case_book.__file__).resolve().parent
WORKFLOWS = BOOK.parent


def book_source() -> str:
    """The text of every module of the case book, where its steps and dates are written."""
    return "\n".join(p.read_text("utf-8") for p in sorted(BOOK.glob("*.py")))


@pytest.mark.parametrize("enum", list(BY_ENUM), ids=lambda e: e.__name__)
def test_every_value_of_every_shown_enum_has_a_name(enum: type) -> None:
    names = BY_ENUM[enum]
    assert set(names) == set(enum)  # type: ignore[call-overload]
    assert all(zh(v) and zh(v) != v.value for v in enum)  # type: ignore[attr-defined]


def test_every_awaited_step_is_named_and_answered_by_a_real_step() -> None:
    source = book_source()
    keys = set(re.findall(r'_human\(\s*"([a-z_]+)"', source))
    keys |= set(re.findall(r'AwaitedStep\(\s*f?"([a-z_]+)[:"{]', source))
    keys |= {"revote", "vote"}  # chosen by a conditional expression
    assert keys, "no awaited steps found: the pattern no longer matches the case book"
    assert keys <= set(AWAITED), sorted(keys - set(AWAITED))
    for _, update in AWAITED.values():
        assert update is None or update in STEP_INPUTS
    assert awaited("objection_verification:O1,O2") == (
        "核查公示期间反映",
        "record_objection_verdict",
    )
    assert awaited("something_new") == ("something_new", None)


def test_every_kind_of_recorded_event_is_named() -> None:
    kinds: set[str] = set()
    for path in [*WORKFLOWS.glob("*.py"), *BOOK.glob("*.py")]:
        text = path.read_text("utf-8")
        kinds |= set(re.findall(r'Happening\(\s*"([a-z_]+)"', text))
        kinds |= set(re.findall(r'self\._record\(\s*"([a-z_]+)"', text))  # a probation's
    assert kinds, "no event kinds found"
    assert kinds <= set(EVENT_KINDS), sorted(kinds - set(EVENT_KINDS))


def test_recorded_words_are_named_whatever_wrote_them() -> None:
    assert zh_recorded(CaseStage.VOTE.value) == "常委会票决"
    assert zh_recorded(Role.AUDITOR.value) == "审计人员"
    assert zh_recorded("reminder") == "提醒"
    assert zh_recorded("a-word-from-a-later-version") == "a-word-from-a-later-version"


def test_every_step_has_a_title() -> None:
    assert set(STEPS) == set(STEP_INPUTS)


def test_every_date_a_case_records_is_named() -> None:
    source = book_source()
    written = set(re.findall(r'dates\["([a-z_]+)"\]\s*=', source))
    assert written, "no dates found"
    assert written <= set(DATES), sorted(written - set(DATES))


def test_every_step_is_offered_at_some_stage() -> None:
    from web.console.cases import STEP_STAGES

    assert set(STEP_STAGES) == set(STEP_INPUTS)
    assert all(STEP_STAGES.values())


def test_the_appointment_is_offered_only_once_the_notice_is_over() -> None:
    """The console once offered the appointment during the public notice, which the case
    always refuses; the stages now come from the step table the case's rules agree with."""
    from web.console.cases import STEP_STAGES

    assert STEP_STAGES["record_appointment"] == {CaseStage.APPOINTMENT}
    assert CaseStage.PUBLIC_NOTICE in STEP_STAGES["record_objection"]
