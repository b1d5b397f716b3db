"""The files that start a capability test campaign and a double evaluation, read into the
workflows' rows: a campaign's results (``capability-results``), and the two tallies of a
double evaluation (``evaluation-unified``, ``evaluation-own``), joined by person id.

Every problem of every row is told at once, naming its file, row and column, in Chinese;
any problem, and nothing is returned. What depends on the policy in force (a score above
the full mark) is checked by the doors with the policy (``gateway.cadre_checks``), again by
row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sheets.columns import CAPABILITY_RESULTS, EVALUATION_OWN, EVALUATION_UNIFIED, Sheet
from sheets.files import read_numbered_file
from sheets.problems import SheetProblems, at_row
from workflows.cadre_rows import OwnTallyRow, UnifiedTallyRow
from workflows.capability_types import CapabilityResult
from workflows.double_evaluation_types import LeaderTallies, TallyInput
from workflows.rules.errors import RuleViolation


@dataclass(frozen=True)
class Upload:
    """A file as sent: its name (which says .xlsx or .csv) and its bytes."""

    name: str
    data: bytes


def _in(sheet: Sheet, problems: Sequence[str]) -> list[str]:
    return [f"{sheet.title}：{p}" for p in problems]


def _rows(sheet: Sheet, upload: Upload) -> list[tuple[int, object]]:
    try:
        return list(read_numbered_file(sheet, upload.name, upload.data))
    except SheetProblems as exc:
        raise SheetProblems(_in(sheet, exc.problems)) from None


def read_results(upload: Upload) -> list[tuple[int, CapabilityResult]]:
    """A campaign's results, one cadre a row, each with its row number."""
    out: list[tuple[int, CapabilityResult]] = []
    for number, row in _rows(CAPABILITY_RESULTS, upload):
        assert isinstance(row, CapabilityResult)
        out.append((number, row))
    return out


def _tally_problem(number: int, tally: TallyInput, what: str) -> str | None:
    try:
        tally.tally().check(what)
    except RuleViolation as e:
        return at_row(number, "", e.message)
    return None


def read_leaders(unified: Upload, own: Upload) -> list[LeaderTallies]:
    """The principal leaders of the unified evaluation's sheet, each with his tally in both
    evaluations. A leader missing from either sheet, a person of the own units' sheet whom
    the unified one does not name, and a tally that cannot be one (more votes than voters,
    none voting) are each told by file and row."""
    problems: list[str] = []
    named: list[tuple[int, UnifiedTallyRow]] = []
    owned: dict[str, tuple[int, OwnTallyRow]] = {}
    try:
        for number, row in _rows(EVALUATION_UNIFIED, unified):
            assert isinstance(row, UnifiedTallyRow)
            named.append((number, row))
    except SheetProblems as exc:
        problems += exc.problems
    try:
        for number, row in _rows(EVALUATION_OWN, own):
            assert isinstance(row, OwnTallyRow)
            owned[row.person_id] = (number, row)
    except SheetProblems as exc:
        problems += exc.problems
    if problems:
        raise SheetProblems(problems)
    known = {row.person_id for _, row in named}
    out: list[LeaderTallies] = []
    for number, row in named:
        who = f"{row.name}（{row.unit}）"
        found = _tally_problem(number, row, f"{who}的统一民主测评")
        if found:
            problems += _in(EVALUATION_UNIFIED, [found])
        if row.person_id not in owned:
            problems += _in(
                EVALUATION_UNIFIED,
                [at_row(number, "人员编号", f"{row.person_id} 在本单位民主测评表中没有结果")],
            )
            continue
        own_number, own_row = owned[row.person_id]
        found = _tally_problem(own_number, own_row, f"{who}的本单位民主测评")
        if found:
            problems += _in(EVALUATION_OWN, [found])
        out.append(
            LeaderTallies(
                person_id=row.person_id,
                name=row.name,
                unit=row.unit,
                post=row.post,
                unified=TallyInput.model_validate(row.model_dump(include=_COUNTS)),
                own=TallyInput.model_validate(own_row.model_dump(include=_COUNTS)),
            )
        )
    for person_id, (number, _) in sorted(owned.items(), key=lambda x: x[1][0]):
        if person_id not in known:
            problems += _in(
                EVALUATION_OWN,
                [at_row(number, "人员编号", f"{person_id} 不在统一民主测评表中")],
            )
    if problems:
        raise SheetProblems(problems)
    return out


_COUNTS = set(TallyInput.model_fields)
