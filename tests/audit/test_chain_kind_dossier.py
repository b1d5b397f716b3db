"""Dossier format v5: a dossier says what its chain records (``case.chain``, from the chain's
id), and its page is headed by that kind and names every event kind in Chinese, those of the
register's and the cadre workflows' chains too; it verifies in each format. Dossiers of v4
(and before) still verify byte for byte."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import dossier as dossiers
from audit.glossary import (
    CHAIN_LABELS_V5,
    KIND_LABELS,
    KIND_LABELS_V5,
    PROBATION_KIND_LABELS,
)
from audit.keys import load_public_key
from store.register_audit import REGISTER_CHAIN_ID, append_register_event
from tests.audit.conftest import (
    T0,
    Keys,
    record_all,
    record_appointment,
    signed_dossier,
)
from tests.audit.test_export import change_one_byte, write
from workflows.cadre_records import chain_listing
from workflows.glossary import EVENT_KINDS
from workflows.ids import capability_retest_workflow_id
from workflows.types import (
    Actor,
    CaseStage,
    ChainKind,
    RecordEventInput,
    Role,
)

FIXTURES = Path(__file__).parent / "fixtures"
RETEST = capability_retest_workflow_id("2026-cap", "p-7")
RETEST_KINDS = (
    "capability_self_study",
    "capability_reminder",
    "capability_deadline",
    "capability_alarm",
    "capability_overdue",
    "capability_retest",
    "capability_handling",
)
REGISTER_KINDS = ("register_changed", "rotation_listed", "rotation_decided")
CJK = re.compile(r"[\u4e00-\u9fff]")
# an events table's row: chain index, seq, time, kind, ...
EVENT_ROW = re.compile(r"<tr><td>(\d+)</td><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td>")


def retest_events() -> list[RecordEventInput]:
    """A retest's chain as the workflow records it (``workflows.cadre_records``)."""
    listing = chain_listing(RETEST, "县财政局", "股长", T0.date())
    alarms = [{"kind": "reminder", "role": "clerk", "at": "2026-12-01T09:00:00+08:00"}]
    return [
        RecordEventInput(
            case_id=RETEST,
            seq=seq,
            kind=kind,
            stage=CaseStage.CLOSED,
            occurred_at=T0 + timedelta(days=seq),
            actor_name="系统",
            actor_role=Role.SYSTEM,
            summary=f"王五补测事项{seq}",
            payload={"person_id": "p-7", **({"alarms": alarms} if "deadline" in kind else {})},
            case=listing,
        )
        for seq, kind in enumerate(RETEST_KINDS, 1)
    ]


@pytest.fixture
async def register_dossier(
    log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> dict[str, Any]:
    async with log_sessions() as s:
        for n, kind in enumerate(REGISTER_KINDS, 1):
            await append_register_event(
                s,
                Actor(name="李科员", role=Role.CLERK),
                kind,
                f"王五的名册事项{n}",
                {"person_id": "p-7"},
            )
        await s.commit()
    return await signed_dossier(log_sessions, keys, REGISTER_CHAIN_ID)


@pytest.fixture
async def retest_dossier(
    log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> dict[str, Any]:
    await record_all(log_sessions, retest_events())
    return await signed_dossier(log_sessions, keys, RETEST)


def visible(page: str) -> str:
    """What a reader sees of a page, less the cells that show recorded data as it is (the
    payload's JSON, hashes): the embedded dossier and those cells taken out."""
    page = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.DOTALL)
    page = re.sub(r'<td class="payload">.*?</td>', "", page, flags=re.DOTALL)
    return re.sub(r'<(td|dd|span) class="mono">.*?</\1>', "", page, flags=re.DOTALL)


@pytest.mark.parametrize(
    ("which", "kind", "kinds"),
    [
        ("register_dossier", ChainKind.CADRE_REGISTER, REGISTER_KINDS),
        ("retest_dossier", ChainKind.CAPABILITY_RETEST, RETEST_KINDS),
    ],
)
def test_a_chain_that_is_not_a_case_is_dossiered_by_its_kind(
    which: str,
    kind: ChainKind,
    kinds: tuple[str, ...],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    keys: Keys,
) -> None:
    dossier: dict[str, Any] = request.getfixturevalue(which)
    assert dossier["format"] == dossiers.DOSSIER_FORMAT == "cadre-appointments/audit-dossier/v5"
    assert dossier["case"]["chain"] == kind.value
    page = dossiers.render(dossier, "html")
    name = CHAIN_LABELS_V5[kind.value]
    assert f"<h1>{name}审计档案：{dossier['case_id']}</h1>" in page
    assert f"<dt>审计链类别</dt><dd>{name}</dd>" in page
    # never an appointment case's header
    for word in (
        "一般选拔任用",
        "干部选拔任用案件审计档案",
        "<dt>选任方式",
        "案件概况",
        "结案理由",
    ):
        assert word not in page, word
    # every event by its kind's Chinese name, no kind left as its English word
    rows = EVENT_ROW.findall(page)
    assert [r[2] for r in rows] == [KIND_LABELS_V5[e["kind"]] for e in dossier["events"]]
    assert [e["kind"] for e in dossier["events"]] == list(kinds)
    assert all(CJK.search(r[2]) for r in rows)
    seen = visible(page)
    assert not [k for k in (*kinds, "closed", "clerk", "system") if k in seen]
    # and it verifies in each format
    for fmt in dossiers.FORMATS:
        report = dossiers.verify_dossier_file(write(dossier, fmt, tmp_path), keys.public)
        assert report.ok, (fmt, report.faults)
        assert (report.case_id, report.events) == (dossier["case_id"], len(kinds))


def test_a_chain_cannot_be_passed_off_as_a_case(
    register_dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    # the kind is derived from the chain's id, which every event carries under its hash
    claimed = json.loads(json.dumps(register_dossier))
    claimed["case"]["chain"] = ChainKind.APPOINTMENT.value
    for fmt in ("json", "html"):
        report = dossiers.verify_dossier_file(write(claimed, fmt, tmp_path), keys.public)
        assert any("'case' 部分" in f for f in report.faults), (fmt, report.faults)
    # nor by a page whose header was edited
    path = write(register_dossier, "html", tmp_path)
    path.write_text(
        path.read_text("utf-8").replace("干部名册及交流决定审计档案", "干部选拔任用案件审计档案"),
        "utf-8",
    )
    assert not dossiers.verify_dossier_file(path, keys.public).ok


async def test_a_cases_dossier_says_it_is_one_and_names_the_kinds_recorded_since(
    log_sessions: async_sessionmaker[AsyncSession], keys: Keys, tmp_path: Path
) -> None:
    await record_appointment(log_sessions, "V5-1")
    dossier = await signed_dossier(log_sessions, keys, "V5-1")
    assert dossier["case"]["chain"] == ChainKind.APPOINTMENT.value
    page = dossiers.render(dossier, "html")
    assert "<h1>干部选拔任用案件审计档案：V5-1</h1>" in page
    assert "<dt>审计链类别</dt><dd>干部选拔任用案件</dd>" in page
    rows = EVENT_ROW.findall(page)  # the case's events, then its probation's
    kinds = [r[2] for r in rows[: len(dossier["events"])]]
    assert kinds[-1] == "试用期"  # the probation it started: raw ("probation") until v4
    assert all(CJK.search(r[2]) for r in rows)
    assert "（regular_appointment）" not in page and "选任方式</dt><dd>一般选拔任用</dd>" in page
    for fmt in dossiers.FORMATS:
        report = dossiers.verify_dossier_file(write(dossier, fmt, tmp_path), keys.public)
        assert report.ok, (fmt, report.faults)


def test_the_v5_glossary_names_every_kind_and_every_chain() -> None:
    probation_only = set(PROBATION_KIND_LABELS) - set(KIND_LABELS)
    recorded = set(EVENT_KINDS) - probation_only
    assert recorded <= set(KIND_LABELS_V5), recorded - set(KIND_LABELS_V5)
    assert set(CHAIN_LABELS_V5) == {k.value for k in ChainKind}
    # the names of v2 stay as they were, for the pages exported before
    assert {k: KIND_LABELS_V5[k] for k in KIND_LABELS} == dict(KIND_LABELS)
    assert all(CJK.search(v) for v in (*KIND_LABELS_V5.values(), *CHAIN_LABELS_V5.values()))


# --------------------------------------------------------------------------- format v4


@pytest.mark.parametrize("fmt", dossiers.FORMATS)
def test_a_dossier_exported_before_chain_kinds_still_verifies(fmt: str, tmp_path: Path) -> None:
    # exported by the code before this change (format v4, rendered by it), with its own key
    public = load_public_key(FIXTURES / "v4_signing.pub.pem")
    path = FIXTURES / f"dossier_v4.{fmt}"
    report = dossiers.verify_dossier_file(path, public)
    assert report.ok, report.faults
    assert (report.case_id, report.events, report.probations) == ("W-1", 9, 1)
    data = dossiers.dossier_from_html(path.read_text("utf-8")) if fmt == "html" else None
    if data is not None:
        assert data["format"] == dossiers.DOSSIER_FORMAT_V4 and "chain" not in data["case"]
        assert "审计链类别" not in path.read_text("utf-8")
    changed = tmp_path / path.name
    changed.write_bytes(path.read_bytes())
    change_one_byte(changed, b"1", b"2", occurrence=3)
    assert not dossiers.verify_dossier_file(changed, public).ok


def test_the_v4_csv_is_read_as_it_was_written() -> None:
    text = (FIXTURES / "dossier_v4.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert "checkpoint_previous" in rows[0] and {r[-1] for r in rows[1:]} == {
        dossiers.DOSSIER_FORMAT_V4
    }
    parsed = dossiers.render(json.loads((FIXTURES / "dossier_v4.json").read_text("utf-8")), "csv")
    assert parsed == text  # rendered again as it was
