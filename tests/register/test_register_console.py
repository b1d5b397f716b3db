"""The console's register pages (干部名册) without Temporal: a clerk imports a sheet and reads
a person's record with its history; a bad file is refused with its rows; a role the table
does not name is refused; the head records a rotation decision on a scan's listing."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import load_settings
from store.register import record_rotation_scan
from store.register_queries import rotation_listing
from tests.api.conftest import NoTemporal
from tests.register.conftest import workbook
from tests.web.console_fixtures import make_person, sign_in
from workflows.register_types import RotationDecision, RotationDue, RotationScanResult
from workflows.types import Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["人员编号", "姓名", "性别", "出生日期"]


async def test_import_list_search_and_a_persons_history(
    own_sessions: async_sessionmaker[AsyncSession],
) -> None:
    app = create_app(load_settings({}), NoTemporal(), own_sessions)  # type: ignore[arg-type]
    clerk = await make_person(own_sessions, Role.CLERK, "名册科员甲")
    async with await sign_in(app, clerk, Role.CLERK) as person:
        listing = await person.get("/console/register")
        assert "干部名册" in listing and 'action="/console/register/import"' in listing

        async def upload(data: bytes, reason: str = "年度导入") -> tuple[int, str]:
            response = await person.http.post(
                "/console/register/import",
                data={"csrf": person.csrf, "kind": "register-people", "reason": reason},
                files={"file": ("名册.xlsx", data, XLSX)},
            )
            return response.status_code, response.text

        status, text = await upload(workbook(HEADER, [["R1", "", "男", "1980-01-01"]]))
        assert status == 422 and "第 2 行「姓名」" in text and "文件未导入" in text
        status, _ = await upload(workbook(HEADER, [["R1", "钱一", "男", "1980-01-01"]]))
        assert status == 303
        status, _ = await upload(workbook(HEADER, [["R1", "钱一", "女", "1980-01-01"]]), "性别更正")
        assert status == 303
        found = await person.get("/console/register?q=钱")
        assert 'href="/console/register/people/R1"' in found
        assert "R1" not in await person.get("/console/register?q=孙")
        record = await person.get("/console/register/people/R1")
        assert "钱一（R1）" in record and "第 2 版" in record and "第 1 版" in record
        assert "性别更正" in record and "名册科员甲" in record
        await person.get("/console/register/people/R9", expect=404)
        # a clerk may not decide a rotation
        refused = await person.post("/console/register/rotations/s1/R1", {"decision": "rotate"})
        assert refused.status_code == 403

    team = await make_person(own_sessions, Role.INSPECTION_TEAM)
    async with await sign_in(app, team, Role.INSPECTION_TEAM) as person:
        home = await person.get("/console/")
        assert 'href="/console/register"' not in home
        await person.get("/console/register", expect=403)


async def test_the_head_records_a_rotation_decision(
    own_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with own_sessions() as s, s.begin():
        await record_rotation_scan(
            s,
            RotationScanResult(
                scan_id="rotation-scan-1",
                as_of=date(2026, 3, 1),
                threshold_years=8,
                scanned=3,
                due=[
                    RotationDue(
                        person_id="R1",
                        name="钱一",
                        version=2,
                        township="城关镇",
                        since=date(2017, 1, 1),
                        years=9,
                    )
                ],
            ),
        )
    app = create_app(load_settings({}), NoTemporal(), own_sessions)  # type: ignore[arg-type]
    head = await make_person(own_sessions, Role.DEPARTMENT_HEAD, "部长乙")
    async with await sign_in(app, head, Role.DEPARTMENT_HEAD) as person:
        scan = await person.get("/console/register/rotations/rotation-scan-1")
        assert "钱一" in scan and "城关镇" in scan and "待定" in scan
        refused = await person.post(
            "/console/register/rotations/rotation-scan-1/R1", {"decision": "exempt", "note": ""}
        )
        assert refused.status_code == 422 and "不予交流须说明理由" in refused.text
        done = await person.post(
            "/console/register/rotations/rotation-scan-1/R1", {"decision": "rotate", "note": ""}
        )
        assert done.status_code == 303
        assert "（部长乙）" in await person.get("/console/register/rotations/rotation-scan-1")
    async with own_sessions() as s:
        [listed] = await rotation_listing(s, "rotation-scan-1")
    assert (listed.decision, listed.decided_by) == (RotationDecision.ROTATE, "部长乙")
