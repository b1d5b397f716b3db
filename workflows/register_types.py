"""Typed records of the cadre register (干部名册) and of the rotation scan (交流).

A person's register record (``PersonRecord``) is kept whole in every version: the person's
own facts, the posts held, the sanctions, the assessments and test results. A change is a
new version of the whole record (``store.register``), never an edit of the old one.

The rows of the register's spreadsheets (``PersonRow``, ``PostRow``, ``SanctionsRow``,
``AssessmentRow``) are what ``sheets.columns`` reads; each names its person by ``person_id``.

Date convention of a post: ``started_on`` is its first day, ``ended_on`` its last day (None
while held). A post is held on day D when ``started_on <= D <= ended_on``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from workflows.types import ID_MAX, ID_PATTERN, Line, Model, Sanction, Text

PersonId = Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]


class AssessmentKind(StrEnum):
    ANNUAL = "annual"  # 年度考核
    CAPABILITY_TEST = "capability_test"  # 行政管理能力测试
    RETEST = "retest"  # 补测


class AssessmentGrade(StrEnum):
    EXCELLENT = "excellent"  # 优秀
    COMPETENT = "competent"  # 称职
    BASICALLY_COMPETENT = "basically_competent"  # 基本称职
    INCOMPETENT = "incompetent"  # 不称职
    PASSED = "passed"  # 合格 (a test)
    FAILED = "failed"  # 不合格 (a test)


class RotationDecision(StrEnum):
    ROTATE = "rotate"  # 交流
    DEFER = "defer"  # 暂缓交流
    EXEMPT = "exempt"  # 不予交流


class RegisterSection(StrEnum):
    """The parts of a person's record, each imported by its own sheet."""

    PERSON = "person"
    POSTS = "posts"
    SANCTIONS = "sanctions"
    ASSESSMENTS = "assessments"


def _by_chinese_name(kind: type[StrEnum]) -> Any:
    """A validator that takes an enum value by its Chinese name (the glossary's) as well."""

    def read(value: Any) -> Any:
        if isinstance(value, str):
            from workflows.glossary import BY_ENUM  # here: the glossary imports this module

            text = value.strip()
            for member, name in BY_ENUM[kind].items():
                if text == name:
                    return member
            return text
        return value

    return BeforeValidator(read)


# --------------------------------------------------------------------------- the record


class PersonFacts(Model):
    """Who the person is: what a case asks of a candidate, besides posts and sanctions."""

    person_id: PersonId
    name: Line = Field(min_length=1, max_length=100)
    sex: Line | None = Field(default=None, max_length=10)
    ethnicity: Line | None = Field(default=None, max_length=40)
    birth_date: date | None = None
    party_member: bool | None = None
    education: Line | None = Field(default=None, max_length=100)
    work_started_on: date | None = None


class PostHeld(Model):
    unit: Line = Field(min_length=1, max_length=200)
    # the township (乡镇) the post is in; None for a county-level unit
    township: Line | None = Field(default=None, max_length=100)
    post: Line = Field(default="", max_length=200)  # the title (职务)
    rank: Line = Field(default="", max_length=100)  # 职级
    leading: bool = False  # a leading post (领导职务); an ordinary cadre (一般干部) otherwise
    started_on: date
    ended_on: date | None = None  # its last day; None while held
    promotion: bool = False  # taking it was a promotion (提拔)
    probation_ends_on: date | None = None  # the last day of its probation (试用期), if any

    @model_validator(mode="after")
    def _dates_in_order(self) -> PostHeld:
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise PydanticCustomError(
                "post_dates",
                "免职日期 {ended} 早于任职日期 {started}",
                {"ended": self.ended_on.isoformat(), "started": self.started_on.isoformat()},
            )
        if self.probation_ends_on is not None and self.probation_ends_on < self.started_on:
            raise PydanticCustomError(
                "post_dates",
                "试用期满日期 {ends} 早于任职日期 {started}",
                {
                    "ends": self.probation_ends_on.isoformat(),
                    "started": self.started_on.isoformat(),
                },
            )
        return self


class Assessment(Model):
    kind: Annotated[AssessmentKind, _by_chinese_name(AssessmentKind)]
    held_on: date
    grade: Annotated[AssessmentGrade, _by_chinese_name(AssessmentGrade)] | None = None
    score: float | None = Field(default=None, ge=0, le=100)


class PersonRecord(Model):
    """One person's whole register record, as one version holds it."""

    person: PersonFacts
    posts: list[PostHeld] = Field(default_factory=list, max_length=200)
    sanctions: list[Sanction] = Field(default_factory=list, max_length=100)
    assessments: list[Assessment] = Field(default_factory=list, max_length=500)


class RegisterVersion(Model):
    """A version of a person's record as the register keeps it: who changed it, when, why."""

    person_id: PersonId
    version: int = Field(ge=1)
    record: PersonRecord
    changed_by: Line
    changed_role: Line
    reason: Text
    sections: list[RegisterSection]


# --------------------------------------------------------------------------- sheet rows


class PersonRow(PersonFacts):
    """A row of the people's sheet (干部名册·基本信息)."""


class PostRow(PostHeld):
    """A row of the posts' sheet (干部名册·任职经历): one post of one person."""

    person_id: PersonId


class SanctionsRow(Model):
    """A row of the sanctions' sheet (干部名册·处分): every sanction of one person."""

    person_id: PersonId
    sanctions: list[Sanction] = Field(default_factory=list, max_length=100)


class AssessmentRow(Assessment):
    """A row of the assessments' sheet (干部名册·考核与测试): one result of one person."""

    person_id: PersonId


# --------------------------------------------------------------------------- rotation


class PostSpan(Model):
    """A post's place, rank and days, as the rotation scan reads them."""

    township: Line | None = None
    rank: Line = ""
    started_on: date
    ended_on: date | None = None


class RegisterPosts(Model):
    """One person's posts, from the register version read."""

    person_id: PersonId
    name: Line
    version: int
    posts: list[PostSpan]


class RegisterReadInput(Model):
    """Which persons' township posts the scan reads (every current one)."""

    as_of: date


class RegisterReadResult(Model):
    people: list[RegisterPosts]


class RotationScanInput(Model):
    """A scan as of a day; None: the day the scan runs (Beijing time)."""

    as_of: date | None = None


class RotationDue(Model):
    person_id: PersonId
    name: Line
    version: int  # the register version the scan read
    township: Line
    since: date  # the first day of the continuous stint in the township
    years: int  # whole years in the township on the scan's day


class RotationScanResult(Model):
    scan_id: Line
    as_of: date
    threshold_years: int
    scanned: int  # persons read
    due: list[RotationDue]


class RecordRotationScanInput(Model):
    result: RotationScanResult
