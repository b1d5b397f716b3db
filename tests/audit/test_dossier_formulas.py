"""A name or a summary that begins like a spreadsheet formula is written into the CSV dossier
as text (format v3), and the dossier still verifies; dossiers exported before (v1, v2) still
verify as they were written, formulas and all."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import dossier as dossiers
from audit.dossier.csv_format import FORMULA_STARTS, dossier_from_csv, neutralised, restored
from audit.keys import load_public_key
from tests.audit.conftest import (
    Keys,
    probation_story,
    record_all,
    record_probation,
    signed_dossier,
    started_probation,
    story,
)
from tests.audit.test_export import change_one_byte, write

FIXTURES = Path(__file__).parent / "fixtures"
FORMULA_NAME = '=HYPERLINK("http://x","王科员")'


@pytest.fixture
async def dossier(log_sessions: async_sessionmaker[AsyncSession], keys: Keys) -> dict[str, Any]:
    """Case W-1 whose clerk's name and several summaries begin like formulas."""
    events = story("W-1", people=("p1",))
    events[0] = events[0].model_copy(update={"actor_name": FORMULA_NAME})
    events[2] = events[2].model_copy(update={"summary": "-2+3 investigation notice published"})
    events[4] = events[4].model_copy(update={"summary": "@SUM(1) personnel file checked"})
    events[5] = events[5].model_copy(update={"summary": "\treminder to inspection_team"})
    events[6] = events[6].model_copy(update={"summary": "＋1 inspection concluded"})
    events[7] = events[7].model_copy(update={"summary": "'=already quoted"})
    await record_all(log_sessions, [*events, started_probation("W-1", "p1")])
    year = probation_story("W-1", "p1")
    year[3] = year[3].model_copy(update={"actor_name": "=部长 赵"})
    await record_probation(log_sessions, year)
    return await signed_dossier(log_sessions, keys, "W-1")


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_a_formula_is_written_as_text(dossier: dict[str, Any], tmp_path: Path) -> None:
    assert dossier["format"] == dossiers.DOSSIER_FORMAT == "cadre-appointments/audit-dossier/v5"
    rows = cells(write(dossier, "csv", tmp_path).read_text("utf-8-sig"))
    header, body = rows[0], rows[1:]
    assert header[-1] == "format" and {r[-1] for r in body} == {dossiers.DOSSIER_FORMAT}
    # no cell of the file begins as a formula would
    assert not [c for r in body for c in r if c.startswith(FORMULA_STARTS)]
    actor = header.index("actor_name")
    summary = header.index("summary")
    assert body[0][actor] == "'" + FORMULA_NAME
    assert [body[i][summary] for i in (2, 4, 5, 6, 7)] == [
        "'-2+3 investigation notice published",
        "'@SUM(1) personnel file checked",
        "'\treminder to inspection_team",
        "'＋1 inspection concluded",
        "''=already quoted",
    ]
    assert "'=部长 赵" in [r[actor] for r in body]


def test_the_neutralised_dossier_verifies_in_each_format(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    for fmt in dossiers.FORMATS:
        report = dossiers.verify_dossier_file(write(dossier, fmt, tmp_path), keys.public)
        assert report.ok, (fmt, report.faults)
        assert (report.events, report.probations, report.probation_events) == (9, 1, 5)


def test_the_csv_reads_back_as_the_dossier_it_was_written_from(dossier: dict[str, Any]) -> None:
    parsed = dossier_from_csv(dossiers.render(dossier, "csv"))
    assert parsed["format"] == dossiers.DOSSIER_FORMAT
    assert parsed["events"][0]["actor_name"] == FORMULA_NAME
    assert [e["summary"] for e in parsed["events"]] == [e["summary"] for e in dossier["events"]]
    assert parsed["probations"][0]["events"][3]["actor_name"] == "=部长 赵"


def test_a_removed_quote_makes_the_csv_fail(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    """The quote is part of what was signed for: a file with the formula let loose fails."""
    path = write(dossier, "csv", tmp_path)
    path.write_bytes(path.read_bytes().replace(b"'=HYPERLINK", b"=HYPERLINK", 1))
    assert not dossiers.verify_dossier_file(path, keys.public).ok


@given(st.text(st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "＝", "a", "张", " "])))
def test_neutralising_a_cell_is_undone_exactly(cell: str) -> None:
    assert restored(neutralised(cell)) == cell
    assert not neutralised(cell).startswith(FORMULA_STARTS)


# --------------------------------------------------------------------------- format v2


@pytest.mark.parametrize("fmt", dossiers.FORMATS)
def test_a_dossier_exported_before_formulas_were_neutralised_still_verifies(fmt: str) -> None:
    # exported by the code before this change (format v2), with its own key; the same
    # formula-like names and summaries as the fixture above, written as they were
    public = load_public_key(FIXTURES / "v2_signing.pub.pem")
    report = dossiers.verify_dossier_file(FIXTURES / f"dossier_v2.{fmt}", public)
    assert report.ok, report.faults
    assert (report.case_id, report.events, report.probations, report.probation_events) == (
        "W-1",
        9,
        1,
        5,
    )


def test_the_old_csv_is_read_as_it_was_written() -> None:
    text = (FIXTURES / "dossier_v2.csv").read_text("utf-8-sig")
    assert "format" not in cells(text)[0]
    parsed = dossier_from_csv(text)
    assert parsed["format"] == dossiers.DOSSIER_FORMAT_V2
    assert parsed["events"][0]["actor_name"] == FORMULA_NAME
    assert parsed["events"][7]["summary"] == "'=quoted already"  # no quote taken off
    assert json.loads((FIXTURES / "dossier_v2.json").read_text("utf-8"))["format"] == (
        dossiers.DOSSIER_FORMAT_V2
    )


def test_an_old_csv_with_one_changed_byte_still_fails(tmp_path: Path) -> None:
    path = tmp_path / "dossier_v2.csv"
    path.write_bytes((FIXTURES / "dossier_v2.csv").read_bytes())
    change_one_byte(path, b"=", b"+")
    report = dossiers.verify_dossier_file(path, load_public_key(FIXTURES / "v2_signing.pub.pem"))
    assert not report.ok


# --------------------------------------------------------------------------- format v3


@pytest.mark.parametrize("fmt", dossiers.FORMATS)
def test_a_dossier_exported_before_checkpoints_were_linked_still_verifies(fmt: str) -> None:
    # exported by the code before checkpoints of version 3 (format v3, a checkpoint of
    # version 2), with its own key
    public = load_public_key(FIXTURES / "v3_signing.pub.pem")
    report = dossiers.verify_dossier_file(FIXTURES / f"dossier_v3.{fmt}", public)
    assert report.ok, report.faults
    assert (report.case_id, report.events, report.probations) == ("W-1", 9, 1)
    changed = dossiers.verify_dossier_file(
        FIXTURES / f"dossier_v3.{fmt}", load_public_key(FIXTURES / "v2_signing.pub.pem")
    )
    assert not changed.ok


def test_the_v3_csv_is_read_as_it_was_written() -> None:
    text = (FIXTURES / "dossier_v3.csv").read_text("utf-8-sig")
    header = cells(text)[0]
    assert header[-1] == "format" and "checkpoint_previous" not in header
    parsed = dossier_from_csv(text)
    assert parsed["format"] == dossiers.DOSSIER_FORMAT_V3
    assert "previous" not in parsed["checkpoint"]


def test_the_v4_csv_carries_the_checkpoints_link(dossier: dict[str, Any]) -> None:
    rows = cells(dossiers.render(dossier, "csv"))
    header = rows[0]
    column = header.index("checkpoint_previous")
    assert header[column - 1] == "signature"
    linked = [r[column] for r in rows[1:] if r[column]]
    assert linked and set(linked) == {"null"}  # the first checkpoint of its log
    assert dossier_from_csv(dossiers.render(dossier, "csv"))["checkpoint"]["previous"] is None
