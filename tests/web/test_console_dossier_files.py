"""The auditors' case page offers the dossier with its attachments' files (a zip) to the roles
that may have the files, and the download is the package ``audit verify-dossier`` checks: the
JSON dossier and each file named by its sha256. A role that may not is refused in Chinese."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import load_settings
from store import attachments
from tests.api.conftest import NoTemporal
from tests.audit.conftest import log_sessions, log_url, record_all, story  # noqa: F401
from tests.web.console_fixtures import make_person, sign_in
from workflows.types import Role

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ZIP_LINK = "/console/audit/cases/Z-1/dossier.zip"


@pytest.fixture
async def app(log_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:  # noqa: F811
    yield create_app(load_settings({}), NoTemporal(), log_sessions)  # type: ignore[arg-type]


async def test_the_zip_with_the_files_for_those_who_may_have_them(
    app: FastAPI,
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    await record_all(log_sessions, story("Z-1"))
    async with log_sessions() as s:
        await attachments.put(
            s,
            "Z-1",
            PDF,
            media_type="application/pdf",
            file_name="考察材料.pdf",
            uploaded_by="附件科员",
            uploaded_role=Role.CLERK.value,
        )
    auditor_name = await make_person(log_sessions, Role.AUDITOR)
    clerk_name = await make_person(log_sessions, Role.CLERK)

    async with await sign_in(app, auditor_name, Role.AUDITOR) as auditor:
        page = await auditor.get("/console/audit/cases/Z-1")
        assert f'href="{ZIP_LINK}"' in page and "含附件文件（ZIP）" in page
        response = await auditor.http.get(ZIP_LINK)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="dossier-Z-1.zip"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as package:
        names = set(package.namelist())
        digest = hashlib.sha256(PDF).hexdigest()
        assert names == {"dossier.json", f"attachments/{digest}"}
        assert package.read(f"attachments/{digest}") == PDF
        dossier = json.loads(package.read("dossier.json"))
    assert [e["seq"] for e in dossier["events"]] == [e.seq for e in story("Z-1")]

    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        refused = await clerk.http.get(ZIP_LINK)
    assert refused.status_code == 403
    assert "您的角色无权进行此项操作" in refused.text
