"""The audit endpoints on a log of the test's own, written by the real recording activity:
searches, a case as of a day, dossiers that verify offline, verification that finds a
tampered event, the checkpoints; and the inbox marked read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from api.app import create_app
from audit.checkpoints import create_checkpoint
from audit.dossier import verify_dossier_file
from settings import load_settings
from store.models import InboxMessage
from tests.api.conftest import LOG_CASES, LogApi, NoTemporal, client_for
from tests.audit.conftest import UNIT, Keys, forge_checkpoint, other_keys, tamper  # noqa: F401
from tests.audit.conftest import sign as audit_sign
from workflows.glossary import zh
from workflows.types import Role


async def get(api: LogApi, url: str, role: Role = Role.AUDITOR, **params: Any) -> Any:
    response = await api.http.get(url, params=params, headers=api.accounts[role].headers)
    assert response.status_code == 200, (url, params, response.text)
    return response.json()


def places(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(e["case_id"], e["seq"]) for e in events]


async def sign(api: LogApi) -> None:
    async with api.sessions() as session:
        await create_checkpoint(session, api.keys.private)


async def test_searches_by_each_filter(log_api: LogApi) -> None:
    by_person = await get(log_api, "/audit/events", person="p1")
    assert places(by_person["events"]) == [("L-1", 1), ("L-1", 5), ("L-1", 7)]
    assert by_person["next"] is None
    by_unit = await get(log_api, "/audit/events", unit="县水利局", kind="transition")
    assert places(by_unit["events"]) == [("L-2", 4), ("L-3", 4), ("L-2", 8), ("L-3", 8)]
    one_day = await get(
        log_api, "/audit/events", Role.DEPARTMENT_HEAD, actor="王科员", **{"from": "2026-09-03"}
    )
    assert places(one_day["events"]) == [(c, 3) for c in LOG_CASES]
    in_range = await get(log_api, "/audit/events", stage="vote", to="2026-09-08")
    assert places(in_range["events"]) == [(c, 8) for c in LOG_CASES]
    entry = by_person["events"][0]
    assert (entry["kind"], entry["actor_name"], entry["chain_index"]) == ("opened", "王科员", 1)
    assert len(entry["hash"]) == 64 and "p1" in entry["person_ids"]

    # a page at a time: the cursors walk the same events as one big page
    everything = await get(log_api, "/audit/events", page_size=1000)
    assert len(everything["events"]) == 24 and everything["next"] is None
    walked: list[tuple[str, int]] = []
    after = None
    for _ in range(13):
        page = await get(
            log_api, "/audit/events", page_size=2, **({"after": after} if after else {})
        )
        walked += places(page["events"])
        after = page["next"]
        if after is None:
            break
    assert walked == places(everything["events"])


async def test_a_search_refused_says_why(log_api: LogApi) -> None:
    auditor = log_api.accounts[Role.AUDITOR].headers
    for params, sentence in (
        (
            {"after": "yesterday"},
            "'yesterday' 不是翻页标记（请使用上一次查询给出的 next 值）",
        ),
        (
            {"from": "2026-09-05", "to": "2026-09-04"},
            "日期范围为空：起始日 2026-09-05 晚于截止日 2026-09-04",
        ),
    ):
        response = await log_api.http.get("/audit/events", params=params, headers=auditor)
        assert (response.status_code, response.json()["detail"]) == (422, sentence)


async def test_a_case_as_of_a_day(log_api: LogApi) -> None:
    view = await get(log_api, "/audit/cases/L-1/as-of/2026-09-04")
    assert [e["seq"] for e in view["events"]] == [1, 2, 3, 4]
    standing = view["standing"]
    assert (standing["stage"], standing["status"], standing["unit"]) == (
        "inspection",
        "active",
        UNIT,
    )
    assert standing["policy_version"] == "2026.1"
    assert standing["last_deadline"]["seq"] == 2
    assert view["until"] == "2026-09-05T00:00:00+08:00"  # the end of the day, in Beijing

    before = await get(log_api, "/audit/cases/L-1/as-of/2026-08-31", Role.DEPARTMENT_HEAD)
    assert (before["standing"], before["events"]) == (None, [])
    unknown = await log_api.http.get(
        "/audit/cases/NOPE/as-of/2026-09-04", headers=log_api.accounts[Role.AUDITOR].headers
    )
    assert (unknown.status_code, unknown.json()["detail"]) == (
        404,
        "案件 NOPE 没有任何登记记录",
    )


async def test_dossiers_download_and_verify_offline(log_api: LogApi, tmp_path: Path) -> None:
    auditor = log_api.accounts[Role.AUDITOR].headers
    unsigned = await log_api.http.get("/audit/cases/L-2/dossier", headers=auditor)
    assert unsigned.status_code == 200
    assert unsigned.headers["x-dossier-covered-through"] == "0"
    assert unsigned.json()["checkpoint"] is None

    await sign(log_api)
    for fmt, media in (
        ("json", "application/json"),
        ("csv", "text/csv; charset=utf-8"),
        ("html", "text/html; charset=utf-8"),
    ):
        response = await log_api.http.get(
            "/audit/cases/L-2/dossier", params={"format": fmt}, headers=auditor
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media
        assert response.headers["content-disposition"] == (
            f'attachment; filename="dossier-L-2.{fmt}"'
        )
        assert (
            response.headers["x-dossier-events"],
            response.headers["x-dossier-covered-through"],
        ) == ("8", "8")
        saved = tmp_path / f"dossier-L-2.{fmt}"
        saved.write_bytes(response.content)
        report = verify_dossier_file(saved, log_api.keys.public)
        assert report.ok, (fmt, report.faults)
        assert (report.case_id, report.events) == ("L-2", 8)
    csv = await log_api.http.get(
        "/audit/cases/L-2/dossier", params={"format": "csv"}, headers=auditor
    )
    assert csv.content.startswith("\ufeff".encode())  # spreadsheet programs read it as UTF-8

    for url, status in (
        ("/audit/cases/NOPE/dossier", 404),
        ("/audit/cases/L-2/dossier?format=pdf", 422),
        ("/audit/cases/L-2/dossier?format=JSON", 422),
    ):
        response = await log_api.http.get(url, headers=auditor)
        assert response.status_code == status, url
        assert response.json()["detail"]


async def test_verification_reports_faults_as_a_result(log_api: LogApi) -> None:
    clean = await get(log_api, "/audit/verify", Role.ADMINISTRATOR)
    assert (clean["ok"], clean["cases"], clean["events"], clean["faults"]) == (True, 3, 24, [])
    assert clean["checkpoints"] == [] and "还没有检查点" in clean["notes"][0]

    await sign(log_api)
    await sign(log_api)
    signed = await get(log_api, "/audit/verify", checkpoints=0)
    assert signed["ok"] and len(signed["checkpoints"]) == 2 and signed["notes"] == []

    await tamper(
        log_api.url,
        "UPDATE case_events SET summary = summary || '（已改）' "
        "WHERE case_id = 'L-2' AND chain_index = 5",
    )
    found = await get(log_api, "/audit/verify", Role.DEPARTMENT_HEAD)
    assert found["ok"] is False
    [fault] = found["faults"]
    assert (fault["kind"], fault["case_id"], fault["chain_index"], fault["seq"]) == (
        "edited",
        "L-2",
        5,
        5,
    )
    assert "案件 L-2：第 5 条记录" in fault["message"]
    only_l1 = await get(log_api, "/audit/verify", case="L-1")
    assert (only_l1["ok"], only_l1["cases"], only_l1["events"]) == (True, 1, 8)


async def test_verification_needs_the_services_key(log_api: LogApi) -> None:
    app = create_app(load_settings({}), NoTemporal(), log_api.sessions)  # type: ignore[arg-type]
    async with client_for(app) as http:
        response = await http.get("/audit/verify", headers=log_api.accounts[Role.AUDITOR].headers)
    assert response.status_code == 503
    assert response.json()["code"] == "no_audit_key"
    assert response.json()["detail"].startswith(
        "本服务未设置审计密钥（AUDIT_KEYRING、AUDIT_SIGNING_KEY）"
    )


async def test_the_default_verification_finds_forged_and_deleted_checkpoints(
    log_api: LogApi,
    other_keys: Keys,  # noqa: F811  (the fixture of tests.audit.conftest)
    tmp_path: Path,
) -> None:
    """The two attacks on the checkpoints, as the API's default verification (the newest
    checkpoint, the service's copies) reports them: the checkpoint's number in each fault."""
    copies = tmp_path / "copies"
    settings = load_settings(
        {"AUDIT_SIGNING_KEY": str(log_api.keys.private_path), "AUDIT_EXPORT_DIR": str(copies)}
    )
    app = create_app(settings, NoTemporal(), log_api.sessions)  # type: ignore[arg-type]
    auditor = log_api.accounts[Role.AUDITOR].headers
    for _ in range(2):
        await audit_sign(log_api.sessions, log_api.keys, copies=copies)
    async with client_for(app) as http:
        clean = (await http.get("/audit/verify", headers=auditor)).json()
        assert clean["ok"] and (clean["checkpoint_chain"], clean["copies"]) == (2, 2)

        await tamper(log_api.url, "DELETE FROM case_events WHERE case_id = 'L-3' AND seq >= 7")
        await forge_checkpoint(log_api.url, log_api.sessions, other_keys)
        forged = (await http.get("/audit/verify", headers=auditor)).json()
        assert [(f["kind"], f["checkpoint"], f["case_id"]) for f in forged["faults"]] == [
            ("checkpoint_foreign_key", 3, None),
            ("truncated", None, "L-3"),
        ]

        await tamper(log_api.url, "DELETE FROM audit_checkpoints")
        deleted = (await http.get("/audit/verify", headers=auditor)).json()
        assert [(f["kind"], f["checkpoint"]) for f in deleted["faults"]] == [
            ("checkpoint_missing", 1)
        ]
        assert "#1 至 #2" in deleted["faults"][0]["message"]


async def test_checkpoints_newest_first(log_api: LogApi) -> None:
    assert await get(log_api, "/audit/checkpoints") == []
    await sign(log_api)
    await sign(log_api)
    listed = await get(log_api, "/audit/checkpoints", Role.ADMINISTRATOR)
    assert [c["id"] for c in listed] == sorted((c["id"] for c in listed), reverse=True)
    assert [(c["cases"], c["event_count"]) for c in listed] == [(3, 24), (3, 24)]
    assert all(len(c["merkle_root"]) == 64 and c["signature"] for c in listed)
    older = await get(log_api, "/audit/checkpoints", limit=1, offset=1)
    assert older == listed[1:]


# --------------------------------------------------------------------------- inbox


async def test_a_message_is_marked_read_by_its_role_or_an_overseer(log_api: LogApi) -> None:
    accounts = log_api.accounts
    unread = await get(log_api, "/inbox", Role.CLERK, unread="true")
    assert len(unread) == 6 and all(m["recipient_role"] == "clerk" for m in unread)
    first, second, third = (m["id"] for m in unread[:3])

    marked = await log_api.http.post(f"/inbox/{first}/read", headers=accounts[Role.CLERK].headers)
    assert marked.status_code == 200, marked.text
    assert marked.json()["id"] == first and marked.json()["read_at"]
    again = await log_api.http.post(f"/inbox/{first}/read", headers=accounts[Role.CLERK].headers)
    assert again.status_code == 200
    assert again.json() == marked.json()  # idempotent: it keeps when it was first read

    for role in (Role.SECTION_CHIEF, Role.AUDITOR, Role.INSPECTION_TEAM):
        refused = await log_api.http.post(f"/inbox/{second}/read", headers=accounts[role].headers)
        assert refused.status_code == 403, role
        assert refused.json()["code"] == "other_role_message"
        assert refused.json()["detail"] == (
            f"消息 {second} 是发给{zh(Role.CLERK)}的：{zh(role)}只能将本角色的消息标为已读"
        )
    for role, message in ((Role.DEPARTMENT_HEAD, second), (Role.ADMINISTRATOR, third)):
        overseen = await log_api.http.post(f"/inbox/{message}/read", headers=accounts[role].headers)
        assert overseen.status_code == 200 and overseen.json()["read_at"], role

    still = await get(log_api, "/inbox", Role.CLERK, unread="true")
    assert [m["id"] for m in still] == [m["id"] for m in unread[3:]]

    async with log_api.sessions() as session:
        newest = await session.scalar(select(func.max(InboxMessage.id)))
    assert newest is not None
    for url, status in (
        (f"/inbox/{newest + 1000}/read", 404),
        ("/inbox/abc/read", 422),
        ("/inbox/-1/read", 422),
    ):
        response = await log_api.http.post(url, headers=accounts[Role.CLERK].headers)
        assert response.status_code == status, url
    missing = await log_api.http.post(
        f"/inbox/{newest + 1000}/read", headers=accounts[Role.CLERK].headers
    )
    assert missing.json()["detail"] == f"没有编号为 {newest + 1000} 的消息"
    assert missing.json()["code"] == "no_such_message"
    assert len(await get(log_api, "/inbox", Role.CLERK, unread="true")) == 3
