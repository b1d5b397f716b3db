"""The cadre register through the HTTP API on the real PostgreSQL: an ``.xlsx`` import (a bad
row refused by its row, nothing written), the list and its search, a person with every
version, a rotation decision by the head; a case whose candidate the register contradicts is
refused before Temporal is asked; with the dev server, a case started by register id records
the version in its opening event, on its page (API) and in its dossier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.register import record_rotation_scan
from tests.api.conftest import Account
from tests.register.conftest import workbook
from tests.register.people import add_person, new_register_id
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import regular_case
from workflows.register_types import RotationDue, RotationScanResult
from workflows.types import Role

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
HEADER = ["人员编号", "姓名", "性别", "出生日期"]


def _start_body(case_id: str, candidates: Sequence[Mapping[str, object]]) -> dict[str, object]:
    body = regular_case(case_id).model_dump(mode="json", exclude={"opened_by"})
    body["candidates"] = [dict(c) for c in candidates]
    return body


async def test_import_read_and_search_the_register(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    clerk, auditor = accounts[Role.CLERK].headers, accounts[Role.AUDITOR].headers
    rid = new_register_id()
    url = "/register/import/register-people?reason=年度导入"
    bad = workbook(HEADER, [[rid, "", "男", "1980-01-01"]])
    refused = await offline_api.post(url, content=bad, headers={**clerk, **XLSX})
    assert refused.status_code == 422
    assert "第 2 行「姓名」" in refused.json()["detail"]
    assert (await offline_api.get(f"/register/people/{rid}", headers=clerk)).status_code == 404

    good = workbook(HEADER, [[rid, "钱名册", "男", "1980-01-01"]])
    done = await offline_api.post(url, content=good, headers={**clerk, **XLSX})
    assert done.status_code == 200 and done.json()["changed"] == {rid: 1}
    again = await offline_api.post(url, content=good, headers={**clerk, **XLSX})
    assert again.json() == {"kind": "register-people", "changed": {}, "unchanged": [rid]}
    fixed = workbook(HEADER, [[rid, "钱名册", "女", "1980-01-01"]])
    url = "/register/import/register-people?reason=性别更正"
    assert (await offline_api.post(url, content=fixed, headers={**clerk, **XLSX})).json()[
        "changed"
    ] == {rid: 2}

    unknown = await offline_api.post(
        "/register/import/no-such?reason=x", content=good, headers={**clerk, **XLSX}
    )
    assert unknown.status_code == 409 and "没有干部名册的表 no-such" in unknown.json()["detail"]

    found = (await offline_api.get(f"/register?q={rid}", headers=auditor)).json()
    assert [(p["person_id"], p["name"], p["version"]) for p in found] == [(rid, "钱名册", 2)]
    history = (await offline_api.get(f"/register/people/{rid}", headers=auditor)).json()
    versions = history["versions"]
    assert [(v["version"], v["reason"], v["record"]["person"]["sex"]) for v in versions] == [
        (1, "年度导入", "男"),
        (2, "性别更正", "女"),
    ]
    assert versions[0]["changed_by"] == accounts[Role.CLERK].name
    # an auditor reads, never imports
    denied = await offline_api.post(url, content=fixed, headers={**auditor, **XLSX})
    assert denied.status_code == 403


async def test_the_head_decides_a_rotation(
    offline_api: httpx.AsyncClient,
    accounts: dict[Role, Account],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    rid, scan_id = new_register_id(), f"rotation-scan-{new_register_id()}"
    due = RotationDue(
        person_id=rid, name="孙交流", version=1, township="城关镇", since=date(2016, 1, 4), years=10
    )
    async with session_factory() as s, s.begin():
        await record_rotation_scan(
            s,
            RotationScanResult(
                scan_id=scan_id, as_of=date(2026, 3, 1), threshold_years=8, scanned=5, due=[due]
            ),
        )
    head = accounts[Role.DEPARTMENT_HEAD].headers
    url = f"/register/rotations/{scan_id}/{rid}"
    no_reason = await offline_api.post(url, json={"decision": "defer"}, headers=head)
    assert no_reason.status_code == 409 and no_reason.json()["detail"] == "暂缓交流须说明理由"
    decided = await offline_api.post(
        url, json={"decision": "defer", "note": "重点项目未完成"}, headers=head
    )
    assert decided.status_code == 200
    [listed] = decided.json()["listed"]
    assert (listed["decision"], listed["note"]) == ("defer", "重点项目未完成")
    assert listed["decided_by"] == accounts[Role.DEPARTMENT_HEAD].name
    scans = (await offline_api.get("/register/rotations?limit=500", headers=head)).json()
    assert scan_id in {s["scan_id"] for s in scans}
    missing = await offline_api.post(
        f"/register/rotations/no-scan/{rid}", json={"decision": "rotate"}, headers=head
    )
    assert missing.status_code == 404 and "没有交流排查 no-scan" in missing.json()["detail"]
    clerk = accounts[Role.CLERK].headers
    assert (
        await offline_api.post(url, json={"decision": "rotate"}, headers=clerk)
    ).status_code == 403


async def test_a_case_the_register_contradicts_is_refused_before_temporal(
    offline_api: httpx.AsyncClient,
    accounts: dict[Role, Account],
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    rid = new_register_id()
    await add_person(session_factory, rid, "周名册")
    clerk = accounts[Role.CLERK].headers
    typed = {"register_id": rid, "name": "周名册", "birth_date": "1990-01-01", "education": "大专"}
    refused = await offline_api.post(
        "/cases", json=_start_body(new_case_id, [typed]), headers=clerk
    )
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert f"人选 周名册（{rid}）的「出生日期」与干部名册第 2 版不符" in detail
    assert "录入为 1990-01-01，名册为 1982-05-06" in detail and "「学历」" in detail
    wrong_name = {"register_id": rid, "name": "吴某"}
    refused = await offline_api.post(
        "/cases", json=_start_body(new_case_id, [wrong_name]), headers=clerk
    )
    assert refused.status_code == 409 and "「姓名」" in refused.json()["detail"]
    unknown = {"register_id": "NOBODY-HERE", "name": "某人"}
    refused = await offline_api.post(
        "/cases", json=_start_body(new_case_id, [unknown]), headers=clerk
    )
    assert refused.status_code == 409
    assert "干部名册中没有编号为 NOBODY-HERE 的人员" in refused.json()["detail"]


async def test_a_case_started_by_register_id_names_the_version(
    live: tuple[httpx.AsyncClient, CaseRunner],
    accounts: dict[Role, Account],
    new_case_id: str,
) -> None:
    http, runner = live
    rid = new_register_id()
    await add_person(runner.sessions, rid, "郑名册")
    clerk = accounts[Role.CLERK].headers
    # a typed fact that agrees with the register is taken; the others come from it
    candidates = [{"register_id": rid, "name": "郑名册", "sex": "男"}]
    started = await http.post("/cases", json=_start_body(new_case_id, candidates), headers=clerk)
    assert started.status_code == 201, started.text
    [mine] = started.json()["state"]["candidates"]
    assert (mine["person_id"], mine["register_id"], mine["register_version"]) == (rid, rid, 2)
    case = (await http.get(f"/cases/{new_case_id}", headers=clerk)).json()
    [opened] = [e for e in case["history"] if e["kind"] == "opened"]
    assert f"人选信息取自干部名册：郑名册（{rid}）第 2 版" in opened["summary"]
    auditor = accounts[Role.AUDITOR].headers
    dossier = await http.get(f"/audit/cases/{new_case_id}/dossier?format=html", headers=auditor)
    assert dossier.status_code == 200, dossier.text
    assert f"人选信息取自干部名册：郑名册（{rid}）第 2 版" in dossier.text
