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

from workflows.cadre_rows import OwnTallyRow, UnifiedTallyRow
from workflows.capability_types import CapabilityResult
from workflows.register_types import AssessmentRow, PersonRow, PostRow, SanctionsRow
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
    # a person appears in one row only (a list of candidates); False: a row per post or result
    one_row_per_person: bool = True
    # what the list fills: a case's step ("case"), the cadre register ("register"), or a
    # capability test or double evaluation it starts ("cadre")
    group: str = "case"

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

# a case's candidate may be named by the cadre register (干部名册): its facts then come from
# the register (``store.register_cases``), and the other columns may be left empty
_REGISTER_ID = Column(
    "register_id", "名册编号", ("干部名册编号",), "引用干部名册的人选填写，其信息取自名册"
)
CANDIDATES = Sheet("candidates", "人选名册", Candidate, (_PERSON_ID, _REGISTER_ID, *_CANDIDATE[1:]))

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

# The cadre register (干部名册): each sheet fills one part of the named persons' records
# (``store.register``); the people's sheet first, the others name people already in it.
_PERSON_FIELDS = (
    "person_id",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "party_member",
    "education",
    "work_started_on",
)
_REGISTER_IGNORED = ("序号", "姓名", "备注")

REGISTER_PEOPLE = Sheet(
    "register-people",
    "干部名册·基本信息",
    PersonRow,
    tuple(c for c in _CANDIDATE if c.field in _PERSON_FIELDS),
    group="register",
)

REGISTER_POSTS = Sheet(
    "register-posts",
    "干部名册·任职经历",
    PostRow,
    (
        _PERSON_ID,
        Column("unit", "单位", ("工作单位", "任职单位")),
        Column("township", "所在乡镇", ("乡镇",), "乡镇的职务填乡镇名，县直单位不填"),
        Column("post", "职务", ("职务名称",)),
        Column("rank", "职级", ("职务层次",)),
        Column("leading", "领导职务", ("是否领导职务",), "是：领导职务；否：一般干部"),
        Column("started_on", "任职日期", ("任职时间", "起始日期"), DATE_NOTE),
        Column(
            "ended_on",
            "免职日期",
            ("免职时间", "终止日期"),
            "在任不填；填任职的最后一天，" + DATE_NOTE,
        ),
        Column("promotion", "提拔任职", ("是否提拔",), FLAG_NOTE + "；不填视为否"),
        Column("probation_ends_on", "试用期满日期", (), "无试用期不填；" + DATE_NOTE),
    ),
    ignored=_REGISTER_IGNORED,
    one_row_per_person=False,
    group="register",
)

REGISTER_SANCTIONS = Sheet(
    "register-sanctions",
    "干部名册·处分",
    SanctionsRow,
    (_PERSON_ID, *(c for c in _CANDIDATE if c.field == "sanctions")),
    ignored=_REGISTER_IGNORED,
    group="register",
)

REGISTER_ASSESSMENTS = Sheet(
    "register-assessments",
    "干部名册·考核与测试",
    AssessmentRow,
    (
        _PERSON_ID,
        Column("kind", "类别", ("考核类别",), "年度考核、能力测试 或 补测"),
        Column("held_on", "日期", ("考核日期", "测试日期"), DATE_NOTE),
        Column(
            "grade",
            "结果",
            ("等次", "考核等次", "测试结果"),
            "考核填 优秀、称职、基本称职 或 不称职；测试填 合格 或 不合格",
        ),
        Column("score", "分数", ("测试成绩",), "0 至 100，没有分数不填"),
    ),
    ignored=_REGISTER_IGNORED,
    one_row_per_person=False,
    group="register",
)

REGISTER_SHEETS = (REGISTER_PEOPLE, REGISTER_POSTS, REGISTER_SANCTIONS, REGISTER_ASSESSMENTS)

# The capability test's results and the double evaluation's two tallies (``sheets.cadre_imports``
# joins the two tallies by person): each starts a workflow of its own.
CAPABILITY_RESULTS = Sheet(
    "capability-results",
    "能力测试成绩表",
    CapabilityResult,
    (
        _PERSON_ID,
        Column("name", "姓名"),
        Column("unit", "单位", ("工作单位",)),
        Column("post", "职务", ("现任职务",)),
        Column("score", "成绩", ("测试成绩", "分数", "得分"), "0 至满分，最多两位小数，如 59.5"),
    ),
    group="cadre",
)

_TALLY = (
    Column("voters", "参加测评人数", ("参评人数", "测评人数")),
    Column("excellent", "优秀票", ("优秀",), "不填为 0"),
    Column("competent", "称职票", ("称职",), "不填为 0"),
    Column("basically_competent", "基本称职票", ("基本称职",), "不填为 0"),
    Column("incompetent", "不称职票", ("不称职",), "不填为 0"),
)

EVALUATION_UNIFIED = Sheet(
    "evaluation-unified",
    "双重考核·统一民主测评",
    UnifiedTallyRow,
    (
        _PERSON_ID,
        Column("name", "姓名"),
        Column("unit", "单位", ("工作单位",)),
        Column("post", "职务", ("现任职务",), "党政正职的职务，如 局长"),
        *_TALLY,
    ),
    group="cadre",
)

EVALUATION_OWN = Sheet(
    "evaluation-own",
    "双重考核·本单位民主测评",
    OwnTallyRow,
    (_PERSON_ID, *_TALLY),
    ignored=("序号", "姓名", "单位", "职务", "备注"),
    group="cadre",
)

CADRE_SHEETS = (CAPABILITY_RESULTS, EVALUATION_UNIFIED, EVALUATION_OWN)

SHEETS: Mapping[str, Sheet] = MappingProxyType(
    {
        s.kind: s
        for s in (CANDIDATES, APPLICANTS, SCORES, VOTE_ITEMS, *REGISTER_SHEETS, *CADRE_SHEETS)
    }
)

# The list of a row model, for the forms that meet a list of them.
BY_ROW: Mapping[type, Sheet] = MappingProxyType({s.row: s for s in SHEETS.values()})


def sheet_of(row: type[object]) -> Sheet | None:
    return BY_ROW.get(row)
