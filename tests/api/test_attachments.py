"""Attachments on the real database through the real app: upload, the same file again, the
refusals (size, type, scan) that store nothing, who may download, a step naming a file the
case lacks, and the dossier listing the case's files by sha256."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from audit.checkpoints import create_checkpoint
from audit.dossier import verify_dossier_file
from settings import load_settings
from store.attachments import Attachment, CaseAttachment
from tests.api.conftest import Account, LogApi, NoTemporal, client_for
from tests.api.test_cases import meeting, start, step, to_the_vote
from tests.web.console_fixtures import make_person, sign_in
from tests.workflows.conftest import CaseRunner
from workflows.types import Role

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def upload(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    name: str = "考察材料.pdf",
    claimed: str = "application/pdf",
    case_id: str = "L-1",
) -> httpx.Response:
    return await http.post(
        f"/cases/{case_id}/attachments", headers=headers, files={"file": (name, content, claimed)}
    )


async def counts(api: LogApi) -> tuple[int, int]:
    async with api.sessions() as s:
        stored = await s.scalar(select(func.count()).select_from(Attachment))
        listed = await s.scalar(select(func.count()).select_from(CaseAttachment))
    return stored or 0, listed or 0


def app_with(api: LogApi, **env: str) -> FastAPI:
    return create_app(load_settings(env), NoTemporal(), api.sessions)  # type: ignore[arg-type]


async def test_upload_lists_downloads_and_the_same_file_again_is_one(log_api: LogApi) -> None:
    clerk = log_api.accounts[Role.CLERK].headers
    first = await upload(log_api.http, clerk, PDF)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["sha256"], body["number"], body["media_type"], body["size"]) == (
        sha(PDF),
        1,
        "application/pdf",
        len(PDF),
    )
    assert body["file_name"] == "考察材料.pdf"
    assert body["uploaded_by"] == log_api.accounts[Role.CLERK].name

    again = await upload(log_api.http, log_api.accounts[Role.SECTION_CHIEF].headers, PDF, "x.pdf")
    assert again.status_code == 200
    assert again.json() == body  # the entry the case already had: name and uploader kept
    # the same bytes on another case: stored once, listed on each
    other = await upload(log_api.http, clerk, PDF, case_id="L-2")
    assert (other.status_code, other.json()["number"]) == (201, 1)
    assert await counts(log_api) == (1, 2)

    listed = await log_api.http.get("/cases/L-1/attachments", headers=clerk)
    assert [a["sha256"] for a in listed.json()] == [sha(PDF)]

    auditor = log_api.accounts[Role.AUDITOR].headers
    got = await log_api.http.get(f"/cases/L-1/attachments/{sha(PDF)}", headers=auditor)
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=UTF-8''%E8%80%83%E5%AF%9F%E6%9D%90%E6%96%99.pdf" in disposition

    # a file the case was not given is not found through it, even when another case has it
    png = await upload(log_api.http, clerk, PNG, "scan.png", "image/png", case_id="L-3")
    assert png.status_code == 201
    absent = await log_api.http.get(f"/cases/L-1/attachments/{sha(PNG)}", headers=auditor)
    assert absent.status_code == 404
    assert absent.json()["detail"] == f"案件 L-1 没有摘要为 {sha(PNG)} 的附件"


async def test_refusals_store_nothing(log_api: LogApi) -> None:
    clerk = log_api.accounts[Role.CLERK].headers
    small = app_with(log_api, ATTACHMENT_MAX_BYTES="64")
    async with client_for(small) as http:
        big = await upload(http, clerk, PDF + b"0" * 64)
    assert big.status_code == 413
    assert big.json()["detail"] == "附件超过 64 字节的上限，未保存"

    # the client's claim is not believed: a text file called PDF is refused by its bytes
    fake = await upload(log_api.http, clerk, b"not a pdf at all", "a.pdf", "application/pdf")
    assert fake.status_code == 415
    assert "只收 PDF、JPEG、PNG" in fake.json()["detail"]

    empty = await upload(log_api.http, clerk, b"")
    assert (empty.status_code, empty.json()["detail"]) == (422, "附件是空文件，未保存")

    none = await log_api.http.post("/cases/NOPE/attachments", headers=clerk, files={"file": PDF})
    assert (none.status_code, none.json()["detail"]) == (404, "案件 NOPE 不存在")
    assert await counts(log_api) == (0, 0)


async def test_the_senders_hash_is_checked_before_anything_is_kept(log_api: LogApi) -> None:
    """The uploader may send the sha256 it computed (field ``sha256``): bytes that do not
    give it are refused and nothing is stored; a malformed hash is refused as such."""
    clerk = log_api.accounts[Role.CLERK].headers
    url = "/cases/L-1/attachments"
    files = {"file": ("考察材料.pdf", PDF, "application/pdf")}
    wrong = await log_api.http.post(url, headers=clerk, files=files, data={"sha256": sha(PNG)})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "hash_mismatch")
    assert f"与发送方算得的 {sha(PNG)} 不符" in wrong.json()["detail"]
    malformed = await log_api.http.post(url, headers=clerk, files=files, data={"sha256": "abc"})
    assert (malformed.status_code, malformed.json()["code"]) == (422, "bad_sha256")
    assert await counts(log_api) == (0, 0)
    right = await log_api.http.post(
        url, headers=clerk, files=files, data={"sha256": sha(PDF).upper()}
    )
    assert right.status_code == 201, right.text
    assert right.json()["sha256"] == sha(PDF)
    assert await counts(log_api) == (1, 1)


async def test_the_scan_hook_refuses_what_it_flags(log_api: LogApi, tmp_path: Path) -> None:
    scanner = tmp_path / "scan.py"
    scanner.write_text(
        "import sys\nsys.exit(1 if b'EICAR-MARKER' in sys.stdin.buffer.read() else 0)\n"
    )
    scanned = app_with(log_api, ATTACHMENT_SCAN_COMMAND=f"{sys.executable} {scanner}")
    clerk = log_api.accounts[Role.CLERK].headers
    async with client_for(scanned) as http:
        flagged = await upload(http, clerk, PDF + b"EICAR-MARKER")
        assert flagged.status_code == 422
        assert flagged.json()["detail"] == "附件未通过安全扫描（ATTACHMENT_SCAN_COMMAND），未保存"
        assert await counts(log_api) == (0, 0)
        clean = await upload(http, clerk, PDF)
        assert clean.status_code == 201
    assert await counts(log_api) == (1, 1)


async def test_who_may_upload_and_download(log_api: LogApi) -> None:
    auditor = log_api.accounts[Role.AUDITOR].headers
    refused = await upload(log_api.http, auditor, PDF)
    assert (refused.status_code, refused.json()["detail"]) == (403, "审计人员无权上传附件")
    assert await counts(log_api) == (0, 0)

    await upload(log_api.http, log_api.accounts[Role.CLERK].headers, PDF)
    url = f"/cases/L-1/attachments/{sha(PDF)}"
    anonymous = await log_api.http.get(url)
    assert anonymous.status_code == 401
    bad = await log_api.http.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    for role in Role:
        if role is not Role.SYSTEM:
            got = await log_api.http.get(url, headers=log_api.accounts[role].headers)
            assert got.status_code == 200, role


async def test_a_step_naming_a_file_the_case_lacks_is_refused(log_api: LogApi) -> None:
    head = log_api.accounts[Role.DEPARTMENT_HEAD].headers
    step = {
        "person_id": "p1",
        "replied_on": "2026-03-01",
        "approved": True,
        "reference": "组干复〔2026〕1号",
        "attachments": [sha(PNG)],
    }
    # no Temporal behind this app: the refusal comes before anything is sent
    sent = await log_api.http.post(
        "/cases/L-1/steps/record_higher_approval", headers=head, json=step
    )
    assert sent.status_code == 409
    assert sent.json()["detail"].startswith(f"案件 L-1 没有这些附件：{sha(PNG)}")
    assert sent.json()["code"] == "attachment_not_on_case"

    malformed = await log_api.http.post(
        "/cases/L-1/steps/record_higher_approval",
        headers=head,
        json={**step, "attachments": ["not-a-hash"]},
    )
    assert malformed.status_code == 422


async def test_the_dossier_lists_the_case_files_by_hash(log_api: LogApi, tmp_path: Path) -> None:
    clerk = log_api.accounts[Role.CLERK].headers
    auditor = log_api.accounts[Role.AUDITOR].headers
    before = await log_api.http.get("/audit/cases/L-1/dossier", headers=auditor)
    assert "attachments" not in before.json()  # a case without files: the dossier as before

    await upload(log_api.http, clerk, PDF)
    await upload(log_api.http, clerk, PNG, "会议记录.png", "image/png")
    async with log_api.sessions() as session:
        await create_checkpoint(session, log_api.keys.private)
    for fmt in ("json", "html"):
        response = await log_api.http.get(
            "/audit/cases/L-1/dossier", params={"format": fmt}, headers=auditor
        )
        assert response.status_code == 200
        saved = tmp_path / f"dossier.{fmt}"
        saved.write_bytes(response.content)
        report = verify_dossier_file(saved, log_api.keys.public)
        assert report.ok, (fmt, report.faults)
    dossier = json.loads((tmp_path / "dossier.json").read_text())
    assert [(a["number"], a["sha256"], a["file_name"]) for a in dossier["attachments"]] == [
        (1, sha(PDF), "考察材料.pdf"),
        (2, sha(PNG), "会议记录.png"),
    ]


async def test_a_file_larger_than_any_json_body_is_taken(log_api: LogApi) -> None:
    # above the API's limit on JSON bodies, below ATTACHMENT_MAX_BYTES
    scan = PDF + b"0" * 3_000_000
    response = await upload(log_api.http, log_api.accounts[Role.CLERK].headers, scan)
    assert (response.status_code, response.json()["size"]) == (201, len(scan))


async def test_stored_files_are_never_changed(log_api: LogApi) -> None:
    await upload(log_api.http, log_api.accounts[Role.CLERK].headers, PDF)
    for statement in (
        update(Attachment).values(content=b"%PDF-forged"),
        update(CaseAttachment).values(file_name="forged.pdf"),
        delete(CaseAttachment),
    ):
        async with log_api.sessions() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(statement)
    assert await counts(log_api) == (1, 1)


async def test_the_console_uploads_lists_and_downloads(log_api: LogApi) -> None:
    app = app_with(log_api)
    clerk = await sign_in(app, await make_person(log_api.sessions, Role.CLERK), Role.CLERK)
    auditor = await sign_in(app, await make_person(log_api.sessions, Role.AUDITOR), Role.AUDITOR)
    async with clerk, auditor:
        empty = await clerk.get("/console/cases/L-1/attachments")
        assert "本案尚无附件" in empty and 'name="file"' in empty
        sent = await clerk.http.post(
            "/console/cases/L-1/attachments",
            data={"csrf": clerk.csrf},
            files={"file": ("上级批复.pdf", PDF, "application/pdf")},
        )
        assert sent.status_code == 303, sent.text
        listed = await clerk.get(sent.headers["location"])
        assert "上级批复.pdf" in listed and sha(PDF) in listed
        fake = await clerk.http.post(
            "/console/cases/L-1/attachments",
            data={"csrf": clerk.csrf},
            files={"file": ("a.pdf", b"plain text", "application/pdf")},
        )
        assert fake.status_code == 415 and "只收 PDF、JPEG、PNG" in fake.text
        # an auditor reads and downloads, and is offered no upload form
        page = await auditor.get("/console/cases/L-1/attachments")
        assert sha(PDF) in page and 'name="file"' not in page
        got = await auditor.http.get(f"/console/cases/L-1/attachments/{sha(PDF)}")
        assert (got.status_code, got.content) == (200, PDF)
    assert await counts(log_api) == (1, 1)


async def test_a_vote_names_its_minutes_in_the_chained_log(
    live: tuple[httpx.AsyncClient, CaseRunner], accounts: dict[Role, Account], new_case_id: str
) -> None:
    http, runner = live
    clerk, secretary = accounts[Role.CLERK], accounts[Role.COMMITTEE_SECRETARY]
    await start(http, runner, clerk, new_case_id)
    await to_the_vote(http, accounts, new_case_id)
    minutes = PDF + new_case_id.encode()  # bytes of this case's own
    uploaded = await upload(http, secretary.headers, minutes, "会议纪要.pdf", case_id=new_case_id)
    assert uploaded.status_code == 201, uploaded.text

    items = [{"person_id": "p1", "agree": 8, "disagree": 1}]
    state = await step(
        http,
        secretary,
        new_case_id,
        "record_vote",
        {"meeting": meeting(9), "items": items, "attachments": [sha(minutes)]},
    )
    assert state["stage"] == "public_notice"
    auditor = accounts[Role.AUDITOR].headers
    found = await http.get("/audit/events", params={"actor": secretary.name}, headers=auditor)
    [vote] = found.json()["events"]
    assert vote["payload"]["attachments"] == [sha(minutes)]
    # the inputs before it named no files, and their records are as they always were
    history = (await http.get(f"/cases/{new_case_id}", headers=auditor)).json()["history"]
    inputs = [e for e in history if e["kind"] == "input" and e["seq"] < vote["seq"]]
    assert inputs and all("attachments" not in e["payload"] for e in inputs)
