"""The columns of every list people fill in row by row, with their Chinese headers: the one
home of the header names.

A list (``Sheet``) is a list field of a wire model whose items are rows: the candidates of a
case, the applicants of an exam, the scores of a test, the items of a vote. Each column is
one field of the row model (dotted inside a nested model: ``candidate.birth_date``) with the
header a department's own spreadsheet gives it, and the other headers seen for it. The
console's row forms, the ``.xlsx`` import and its template, and the command line read the
headers from here; field labels elsewhere come from the glossary (``workflows.glossary``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from workflows.types import Applicant, Candidate, Model, Score, VoteItem

FLAG_NOTE = "填 是 或 否"
DATE_NOTE = "YYYY-MM-DD，如 1986-03-14"


@dataclass(frozen=True)
class Column:
    field: str  # the row model's field, dotted inside a nested model
    header: str  # as the template writes it
    aliases: tuple[str, ...] = ()  # other headers read as this column
    note: str = ""  # how to fill it in, where the header alone does not say


@dataclass(frozen=True)
class Sheet:
    """One kind of list: its rows' model and its columns, in the template's order."""

    kind: str  # its name on the command line and in addresses
    title: str  # its name for people (the template's worksheet, the page's legend)
    row: type[Model]
    columns: tuple[Column, ...]
    # rows name people of the case (scores, votes): a row of a form where nothing but the
    # person is filled in is an empty row
    about_case_people: bool = False
    # headers a department's sheet often has beside the columns, read and left aside
    ignored: tuple[str, ...] = ("序号", "备注")

    def column(self, field: str) -> Column | None:
        return next((c for c in self.columns if c.field == field), None)


_PERSON_ID = Column("person_id", "人员编号", ("身份证号", "身份证号码", "编号"))

_CANDIDATE = (
    _PERSON_ID,
    Column("name", "姓名"),
    Column("sex", "性别"),
    Column("ethnicity", "民族"),
    Column("birth_date", "出生日期", ("出生年月日",), DATE_NOTE),
    Column("party_member", "中共党员", ("是否中共党员", "是否党员"), FLAG_NOTE),
    Column("education", "学历", ("最高学历", "文化程度")),
    Column("work_started_on", "参加工作时间", ("参加工作日期",), DATE_NOTE),
    Column("current_post", "现任职务", ("工作单位及职务", "现工作单位及职务")),
    Column("current_rank", "现职级", ("现任职级", "职级")),
    Column("short_cv", "简历", ("个人简历", "主要经历")),
    Column(
        "last_promotion_on",
        "上次提拔日期",
        ("任现职时间", "任现职务时间"),
        "提拔任现职务的日期，" + DATE_NOTE,
    ),
    Column("on_probation", "正在试用期", ("是否在试用期",), FLAG_NOTE),
    Column("promotion", "提拔任职", (), "是：提拔；否：平级交流；不填视为提拔"),
    Column(
        "sanctions",
        "处分",
        ("处分情况", "受处分情况"),
        "种类:日期，多条用；隔开，如 党内警告:2022-05-16（留党察看可再加 :恢复党员权利日期）",
    ),
    Column("exceptional.reason", "破格理由", (), "破格提拔时填写，其余破格栏随之填写"),
    Column("exceptional.levels_skipped", "破格越级数", (), "不越级填 0"),
    Column("exceptional.through_democratic_recommendation", "破格经民主推荐", (), FLAG_NOTE),
    Column("exceptional.time_in_post_exception", "任职年限破格", (), FLAG_NOTE),
    Column(
        "exceptional.previous_promotion_was_time_in_post_exception",
        "上次提拔为任职年限破格",
        (),
        FLAG_NOTE,
    ),
)

CANDIDATES = Sheet("candidates", "人选名册", Candidate, _CANDIDATE)

APPLICANTS = Sheet(
    "applicants",
    "报名人员名册",
    Applicant,
    (
        *(Column(f"candidate.{c.field}", c.header, c.aliases, c.note) for c in _CANDIDATE),
        Column("registered_on", "报名日期", (), DATE_NOTE),
        Column("qualified", "资格审查通过", ("资格审查结果",), "填 是 或 否（通过/不通过）"),
        Column("reason", "资格审查意见", ("未通过理由", "不通过理由"), "未通过时必填"),
    ),
)

SCORES = Sheet(
    "scores",
    "成绩表",
    Score,
    (_PERSON_ID, Column("score", "成绩", ("笔试成绩", "面试成绩", "分数", "得分"), "0 至 100")),
    about_case_people=True,
    ignored=("序号", "姓名", "备注", "准考证号"),
)

VOTE_ITEMS = Sheet(
    "vote-items",
    "表决票数表",
    VoteItem,
    (
        _PERSON_ID,
        Column("agree", "同意票数", ("同意",)),
        Column("disagree", "不同意票数", ("不同意",)),
        Column("defer", "缓议票数", ("缓议",)),
        Column("deferred_reason", "暂缓表决理由", (), "暂缓表决时必填"),
        Column(
            "withdrawn", "回避的常委", ("回避人员",), "对此人选回避表决的常委姓名，多人用、隔开"
        ),
    ),
    about_case_people=True,
    ignored=("序号", "姓名", "备注"),
)

SHEETS: Mapping[str, Sheet] = MappingProxyType(
    {s.kind: s for s in (CANDIDATES, APPLICANTS, SCORES, VOTE_ITEMS)}
)

# The list of a row model, for the forms that meet a list of them.
BY_ROW: Mapping[type, Sheet] = MappingProxyType({s.row: s for s in SHEETS.values()})


def sheet_of(row: type[object]) -> Sheet | None:
    return BY_ROW.get(row)
