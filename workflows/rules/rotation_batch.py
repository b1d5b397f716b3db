"""Rotation batches (交流批次): who may be put in one, and the order of a move's dates.

The county rotates the ordinary cadres a rotation scan listed as due, as the department
decided (the seed: "根据其工作表现、能力……和各乡镇对干部的需要状况进行了交流"). A batch
takes people from one scan's listing:

- each must be listed by that scan as due, and the department's newest decision on him must
  be 交流 (rotate): not undecided, not 暂缓交流, not 不予交流;
- a person is in a batch once, and in one batch at a time: a move of another batch that is
  neither done nor cancelled keeps him out;
- his destination is a place to move to: a unit named, and not the township he leaves;
- a batch is made on or after the scan's day.

A move's dates come in order and never in the future: the rotation document (交流文件) is
issued on or after the day the batch was made, and the cadre reports at the new post
(到岗报到) on or after the document's day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from workflows.glossary import zh
from workflows.register_types import RotationDecision
from workflows.rules.dates import check_not_future
from workflows.rules.errors import RuleViolation

RULE_MEMBERS = "rotation.batch.members"
RULE_DATES = "rotation.batch.dates"


@dataclass(frozen=True)
class Listed:
    """A person a scan listed as due, with the department's newest decision."""

    person_id: str
    name: str
    township: str
    decision: RotationDecision | None  # None while undecided


@dataclass(frozen=True)
class Wanted:
    """A person the department puts in the batch, and where he is to go."""

    person_id: str
    to_unit: str
    to_township: str | None = None


def _place(township: str | None) -> str | None:
    name = (township or "").strip()
    return name or None


def member_problems(
    wanted: Sequence[Wanted],
    scan_id: str,
    listed: Mapping[str, Listed],
    elsewhere: Mapping[str, str],
) -> list[str]:
    """Every reason a person cannot be in the batch, one sentence each, in the batch's order.

    ``listed``: the scan's listing by person id; ``elsewhere``: person id → the batch whose
    move of that person is neither done nor cancelled."""
    problems: list[str] = []
    if not wanted:
        return ["交流批次至少应列入一人"]
    counts = Counter(w.person_id for w in wanted)
    for pid in sorted(pid for pid, n in counts.items() if n > 1):
        problems.append(f"{pid} 在本批次中出现了 {counts[pid]} 次，每人只能列入一次")
    for w in wanted:
        person = listed.get(w.person_id)
        if person is None:
            problems.append(f"{w.person_id} 不在交流排查 {scan_id} 列出的应交流人员中")
            continue
        who = f"{person.name}（{w.person_id}）"
        if person.decision is None:
            problems.append(f"{who}：组织部尚未作出交流决定，不能列入交流批次")
        elif person.decision is not RotationDecision.ROTATE:
            problems.append(f"{who}：组织部的决定是{zh(person.decision)}，不能列入交流批次")
        if w.person_id in elsewhere:
            problems.append(f"{who}已在交流批次 {elsewhere[w.person_id]} 中，尚未到岗或撤销")
        if not w.to_unit.strip():
            problems.append(f"{who}：请填写交流去向单位")
        if _place(w.to_township) is not None and _place(w.to_township) == _place(person.township):
            problems.append(f"{who}：交流去向仍是原乡镇（{person.township}），不是交流")
    return problems


def check_members(
    wanted: Sequence[Wanted],
    scan_id: str,
    listed: Mapping[str, Listed],
    elsewhere: Mapping[str, str],
) -> None:
    """``member_problems`` as one refusal naming every problem."""
    problems = member_problems(wanted, scan_id, listed, elsewhere)
    if problems:
        raise RuleViolation("；".join(problems), RULE_MEMBERS)


def check_made_on(made_on: date, scan_as_of: date) -> None:
    """A batch is made on or after the day of the scan its people come from."""
    if made_on < scan_as_of:
        raise RuleViolation(
            f"交流批次的编组日期（{made_on}）早于交流排查的截至日期（{scan_as_of}）", RULE_DATES
        )


def check_document_on(issued_on: date, made_on: date, today: date) -> None:
    check_not_future(issued_on, today, "交流文件印发")
    if issued_on < made_on:
        raise RuleViolation(
            f"交流文件的印发日期（{issued_on}）早于交流批次的编组日期（{made_on}）", RULE_DATES
        )


def check_arrival_on(arrived_on: date, issued_on: date, today: date) -> None:
    check_not_future(arrived_on, today, "到岗报到")
    if arrived_on < issued_on:
        raise RuleViolation(
            f"到岗报到日期（{arrived_on}）早于交流文件的印发日期（{issued_on}）", RULE_DATES
        )
