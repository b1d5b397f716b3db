"""The files the command line reads: case files, standing-committee meeting files, notice
files (YAML or JSON) and CSV imports (applicants, scores).

Each is read and checked whole before anything is sent; every problem is reported at once,
with its place (field, or line and column), as an ``InputError``.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import Field, ValidationError

from sheets.cells import flag, sanctions
from starter.cli_base import InputError, M, Refused, _error_text, _problems, validation_lines
from workflows.rules.errors import RuleViolation
from workflows.types import (
    Applicant,
    Candidate,
    Line,
    Meeting,
    Model,
    Score,
    VoteItem,
    VoteResult,
)

PROGRESS_MIN_LINES = 200  # smaller files are read before a bar would be worth drawing


# --------------------------------------------------------------------------- files


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}：不是 UTF-8 编码的文本（第 {exc.start} 字节）；请另存为 UTF-8"
            "（在 Excel 中选“CSV UTF-8”）"
        ) from exc
    except OSError as exc:
        raise InputError(f"{path}：无法读取：{exc.strerror}") from exc


class _YamlLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: a date stays text for pydantic to check, so an
    impossible date (1985-13-01) is reported with its field instead of failing the parse."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_data_file(path: Path) -> Any:
    """The content of a YAML or JSON file, chosen by its extension."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise InputError(f"{path}：无法识别的文件类型 {suffix or '（无）'!r}；请用 .yaml 或 .json")
    return parse_data(_read_text(path), str(path), json_only=suffix == ".json")


def parse_data(text: str, where: str, json_only: bool = False) -> Any:
    """YAML (of which JSON is a part) or, with ``json_only``, strict JSON; ``where`` names the
    source in the error."""
    # both parsers recurse once per level of nesting: junk nested hundreds deep exhausts the stack
    too_deep = f"{where}：嵌套层数过多，无法读取（列表或映射嵌套了成百上千层）"
    if json_only:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}") from exc
        except RecursionError as exc:
            raise InputError(too_deep) from exc
    try:
        return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader: builds no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{where}：{at}不是有效的 YAML：{problem}") from exc
    except RecursionError as exc:
        raise InputError(too_deep) from exc


def load_model(model: type[M], path: Path, extra: dict[str, Any] | None = None) -> M:
    return model_of(model, load_data_file(path), str(path), extra)


def model_of(model: type[M], data: Any, where: str, extra: dict[str, Any] | None = None) -> M:
    """``data`` read from ``where`` as ``model``, with ``extra`` fields that must not come from
    the data itself (who records the step)."""
    if not isinstance(data, dict):
        raise InputError(f"{where}：文件的最上层应为各项内容组成的映射（键: 值）")
    if extra:
        clash = sorted(set(extra) & set(data))
        if clash:
            raise InputError(
                f"{where}：文件中不能写 {'、'.join(clash)}；它就是你的令牌对应的账号"
                "（appointments login）"
            )
        data = {**data, **extra}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        count = exc.error_count()
        header = f"{where}：有 {count} 处问题："
        raise InputError(_problems(header, validation_lines(exc))) from exc


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the record starts in the file, 1-based
    cells: dict[str, str]


class CsvProblems:
    """Every problem of a CSV file, each naming its line and column; raised all at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[tuple[int, str]] = []

    def add(self, line: int, column: str | None, message: str) -> None:
        where = f"第 {line} 行" + (f"，{column} 列" if column else "")
        self.found.append((line, f"{self.path.name}，{where}：{message}"))

    def raise_if_any(self) -> None:
        if self.found:
            n = len(self.found)
            header = f"{self.path}：有 {n} 处问题，未发送任何内容："
            lines = [text for _, text in sorted(self.found, key=lambda f: f[0])]
            raise InputError(_problems(header, lines))


def _counted(lines: Sequence[str], bar: Any) -> Iterator[str]:
    for line in lines:
        bar.update(1)
        yield line


def read_csv(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> list[CsvRow]:
    """Rows of a CSV file with a header line; unknown or missing columns are refused."""
    text = _read_text(path)
    lines = text.splitlines(keepends=True)
    problems = CsvProblems(path)
    rows: list[CsvRow] = []
    with click.progressbar(
        length=len(lines),
        label=f"reading {path.name}",
        file=sys.stderr,
        hidden=len(lines) < PROGRESS_MIN_LINES,
    ) as bar:
        reader = csv.reader(_counted(lines, bar))
        header: list[str] | None = None
        last_line = 0
        try:
            for record in reader:
                start, last_line = last_line + 1, reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in record]
                    _check_header(header, required, optional, start, problems)
                    problems.raise_if_any()
                    continue
                if len(record) != len(header):
                    problems.add(
                        start, None, f"本行有 {len(record)} 个值，但表头有 {len(header)} 列"
                    )
                    continue
                rows.append(CsvRow(start, dict(zip(header, record, strict=True))))
        except csv.Error as exc:
            problems.add(reader.line_num, None, f"不是有效的 CSV：{exc}")
    if header is None:
        problems.add(1, None, f"文件是空的；应有表头 {','.join(required)}")
    elif not rows and not problems.found:
        problems.add(last_line, None, "文件只有表头，没有数据行")
    problems.raise_if_any()
    return rows


def _check_header(
    header: list[str],
    required: Sequence[str],
    optional: Sequence[str],
    line: int,
    problems: CsvProblems,
) -> None:
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if missing:
        problems.add(line, None, "缺少列：" + "、".join(missing))
    if unknown:
        allowed = "、".join([*required, *optional])
        problems.add(line, None, f"无法识别的列：{'、'.join(unknown)}（可以有的列：{allowed}）")
    if repeated:
        problems.add(line, None, f"重复的列：{'、'.join(repeated)}")


def _row_model(
    model: type[M],
    data: dict[str, Any],
    row: CsvRow,
    problems: CsvProblems,
    reported: Collection[str] = (),
) -> M | None:
    """The row's model, or None with its problems added; columns in ``reported`` already
    have theirs."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = [p for p in error["loc"] if p != "candidate"]
            column = str(loc[0]) if loc else None
            if column in reported:
                continue
            rest = loc[1:]
            prefix = ""
            if rest and isinstance(rest[0], int):  # the n-th sanction of the cell
                prefix = f"第 {rest[0] + 1} 项" + (f" {rest[1]}" if len(rest) > 1 else "") + "："
            text = "必须填写" if error["type"] == "missing" else _error_text(error)
            problems.add(row.line, column, prefix + text)
        return None


def _check_unique(rows: Sequence[CsvRow], column: str, problems: CsvProblems) -> None:
    first: dict[str, int] = {}
    for row in rows:
        key = row.cells.get(column, "").strip()
        if key and key in first:
            problems.add(row.line, column, f"{key} 已在第 {first[key]} 行出现过")
        first.setdefault(key, row.line)


APPLICANT_COLUMNS = (
    "person_id",
    "name",
    "sex",
    "birth_date",
    "current_post",
    "current_rank",
    "registered_on",
    "qualified",
    "reason",
)
APPLICANT_OPTIONAL = (
    "sanctions",
    "ethnicity",
    "party_member",
    "education",
    "work_started_on",
    "short_cv",
    "last_promotion_on",
    "on_probation",
    "promotion",  # yes: the appointment would promote them (the default); no: lateral move
)
_FLAG_COLUMNS = ("party_member", "on_probation", "promotion")
# the columns that are the candidate's own fields, taken as written
_CANDIDATE_COLUMNS = tuple(
    c
    for c in (*APPLICANT_COLUMNS, *APPLICANT_OPTIONAL)
    if c in Candidate.model_fields and c not in (*_FLAG_COLUMNS, "sanctions")
)


XLSX = ".xlsx"


def read_sheet_file(kind: str, path: Path) -> list[Any]:
    """The rows of an ``.xlsx`` list of ``kind`` (Chinese headers, ``sheets.columns``; the
    template: ``appointments template KIND``), every problem reported at once."""
    from sheets.columns import SHEETS
    from sheets.problems import SheetProblems
    from sheets.xlsx import read_xlsx

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}：无法读取：{exc.strerror}") from exc
    try:
        return read_xlsx(SHEETS[kind], data)
    except SheetProblems as exc:
        header = f"{path}：{len(exc.problems)} 处问题，未提交任何内容："
        raise InputError(_problems(header, exc.problems)) from exc


def read_applicants(path: Path) -> list[Applicant]:
    """The applicants of a CSV file (English columns) or an ``.xlsx`` one (Chinese headers)."""
    if path.suffix.lower() == XLSX:
        return read_sheet_file("applicants", path)
    rows = read_csv(path, APPLICANT_COLUMNS, APPLICANT_OPTIONAL)
    problems = CsvProblems(path)
    _check_unique(rows, "person_id", problems)
    applicants: list[Applicant] = []
    for row in rows:
        cells = {k: v.strip() for k, v in row.cells.items()}
        candidate: dict[str, Any] = {k: cells[k] for k in _CANDIDATE_COLUMNS if cells.get(k)}
        data: dict[str, Any] = {
            "candidate": candidate,
            "registered_on": cells["registered_on"] or None,
            "reason": cells["reason"],
        }
        reported: set[str] = set()
        for column, target in [("qualified", data)] + [(c, candidate) for c in _FLAG_COLUMNS]:
            if column == "qualified" or cells.get(column):
                try:
                    target[column] = flag(cells[column])
                except ValueError as exc:
                    problems.add(row.line, column, str(exc))
                    reported.add(column)
        try:
            candidate["sanctions"] = sanctions(cells.get("sanctions", ""))
        except ValueError as exc:
            problems.add(row.line, "sanctions", str(exc))
            reported.add("sanctions")
        applicant = _row_model(Applicant, data, row, problems, reported)
        if applicant is not None and not reported:
            applicants.append(applicant)
    problems.raise_if_any()
    return applicants


def read_scores(path: Path) -> list[Score]:
    """The scores of a CSV file (person_id,score) or an ``.xlsx`` one (人员编号, 成绩)."""
    if path.suffix.lower() == XLSX:
        return read_sheet_file("scores", path)
    rows = read_csv(path, ("person_id", "score"))
    problems = CsvProblems(path)
    _check_unique(rows, "person_id", problems)
    scores: list[Score] = []
    for row in rows:
        data = {k: v.strip() for k, v in row.cells.items() if v.strip()}
        score = _row_model(Score, data, row, problems)
        if score is not None:
            scores.append(score)
    problems.raise_if_any()
    return scores


# --------------------------------------------------------------------------- multi-case files


class MeetingItem(VoteItem):
    case_id: Line = Field(min_length=1)


class MeetingFile(Meeting):
    """A standing-committee meeting as the secretary records it: attendance once, then the
    items of every case decided at it."""

    items: list[MeetingItem] = Field(min_length=1)

    def meeting(self) -> Meeting:
        return Meeting.model_validate(self.model_dump(exclude={"items"}))


class NoticeFile(Model):
    """One pre-appointment notice (任前公示) covering the candidates of several cases."""

    notice_id: Line = Field(min_length=1)
    published_on: date
    case_ids: list[Line] = Field(min_length=1)


def _by_case(items: Iterable[MeetingItem]) -> dict[str, list[VoteItem]]:
    grouped: dict[str, list[VoteItem]] = {}
    for item in items:
        vote = VoteItem.model_validate(item.model_dump(exclude={"case_id"}))
        grouped.setdefault(item.case_id, []).append(vote)
    return grouped


def check_meeting(path: Path, file: MeetingFile) -> dict[tuple[str, str], str]:
    """Every rule of the vote that needs no case; the decision of each item, described."""
    from workflows.rules import vote

    meeting = file.meeting()
    seen: set[tuple[str, str]] = set()
    repeated = []
    for i, item in enumerate(file.items):
        key = (item.case_id, item.person_id)
        if key in seen:
            repeated.append(f"items[{i}]：案件 {item.case_id} 的 {item.person_id} 列了两次")
        seen.add(key)
    if repeated:
        raise InputError(_problems(f"{path}:", repeated))
    try:
        vote.check_quorum(meeting.members, meeting.present)
    except RuleViolation as exc:
        raise Refused(exc.message) from exc
    results: dict[tuple[str, str], str] = {}
    refusals = []
    for i, item in enumerate(file.items):
        try:
            result: VoteResult = vote.decide_item(meeting, item)
        except RuleViolation as exc:
            refusals.append(f"items[{i}]（案件 {item.case_id}）：{exc.message}")
            continue
        results[(item.case_id, item.person_id)] = vote.describe_result(meeting, item, result)
    if refusals:
        raise Refused(_problems(f"{path}：未发送任何内容：", refusals))
    return results
