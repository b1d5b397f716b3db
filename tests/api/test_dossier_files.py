"""A dossier with its files (``audit.dossier.bundle``) on the real database through the real
app: exported for the roles that may read the case and export, refused to the others; each
file checked against its hash on the way out; verified offline (``appointments audit
verify-dossier``), where a file altered, missing or foreign to the dossier fails, and so does
the hash a chained event names."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.checkpoints import create_checkpoint
from audit.dossier import bundle, verify_dossier_file
from starter.cli import cli
from tests.api.conftest import LogApi
from tests.api.test_attachments import PDF, PNG, sha, upload
from tests.audit.conftest import T0, case_row, record_all, story, tamper
from workflows.types import CaseStage, RecordEventInput, Role

URL = "/audit/cases/L-1/dossier.zip"


async def with_files(api: LogApi) -> None:
    """L-1 given two files, the inspection report's input naming the first in its chained
    payload, and a checkpoint over it all."""
    clerk = api.accounts[Role.CLERK].headers
    assert (await upload(api.http, clerk, PDF)).status_code == 201
    assert (await upload(api.http, clerk, PNG, "会议记录.png", "image/png")).status_code == 201
    seq = len(story("L-1")) + 1
    await record_all(
        api.sessions,
        [
            RecordEventInput(
                case_id="L-1",
                seq=seq,
                kind="input",
                stage=CaseStage.INSPECTION,
                occurred_at=T0 + timedelta(days=seq),
                actor_name="考察组 李组长",
                actor_role=Role.INSPECTION_TEAM,
                summary="inspection report",
                payload={"report": "考察报告", "attachments": [sha(PDF)]},
                case=case_row(CaseStage.INSPECTION),
            )
        ],
    )
    async with api.sessions() as session:
        await create_checkpoint(session, api.keys.private)


def repacked(data: bytes, change: dict[str, bytes | None]) -> bytes:
    """The package with entries replaced (bytes), removed (None) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            if name not in change:
                new.writestr(name, old.read(name))
        for name, content in change.items():
            if content is not None:
                new.writestr(name, content)
    return out.getvalue()


def verify_cli(path: Path, public_key: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["audit", "verify-dossier", str(path), "--public-key", str(public_key)],
        env={"DATA_DIR": "/nonexistent/appointments-audit-test"},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


async def test_the_package_for_those_who_may_read_and_export(
    log_api: LogApi, tmp_path: Path
) -> None:
    await with_files(log_api)
    for role in (Role.AUDITOR, Role.DEPARTMENT_HEAD):
        response = await log_api.http.get(URL, headers=log_api.accounts[role].headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert 'filename="dossier-L-1.zip"' in response.headers["content-disposition"]
    data = response.content
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert sorted(package.namelist()) == sorted(
            ["dossier.json", f"attachments/{sha(PDF)}", f"attachments/{sha(PNG)}"]
        )
        assert package.read(f"attachments/{sha(PDF)}") == PDF
        dossier = json.loads(package.read("dossier.json"))
    assert [a["sha256"] for a in dossier["attachments"]] == [sha(PDF), sha(PNG)]

    saved = tmp_path / "dossier-L-1.zip"
    saved.write_bytes(data)
    report = verify_dossier_file(saved, log_api.keys.public)
    assert report.ok, report.faults
    assert (report.format, report.events, report.files, report.files_named) == ("zip", 9, 2, 1)
    code, output = verify_cli(saved, log_api.keys.public_path)
    assert code == 0, output
    assert "附件 2 个，内容均与其 SHA-256 相符；其中 1 个为已签名的记录所引用" in output

    # no such case: 404, in Chinese
    missing = await log_api.http.get(
        "/audit/cases/L-9/dossier.zip", headers=log_api.accounts[Role.AUDITOR].headers
    )
    assert missing.status_code == 404 and "L-9" in missing.json()["detail"]


@pytest.mark.parametrize(
    "role",
    [
        Role.CLERK,
        Role.SECTION_CHIEF,
        Role.INSPECTION_TEAM,
        Role.COMMITTEE_SECRETARY,
        Role.ADMINISTRATOR,
    ],
)
async def test_refused_to_the_others(log_api: LogApi, role: Role) -> None:
    await with_files(log_api)
    response = await log_api.http.get(URL, headers=log_api.accounts[role].headers)
    assert response.status_code == 403
    assert "导出案卷及附件" in response.json()["detail"]
    assert "application/zip" not in response.headers["content-type"]


async def test_an_altered_package_fails_verification(log_api: LogApi, tmp_path: Path) -> None:
    await with_files(log_api)
    data = (await log_api.http.get(URL, headers=log_api.accounts[Role.AUDITOR].headers)).content
    pdf, png = f"attachments/{sha(PDF)}", f"attachments/{sha(PNG)}"
    cases = {
        "tampered": (
            repacked(data, {pdf: PDF + b"% forged\n"}),
            "与其名称不符：文件在导出后被改动过",
        ),
        "the step's file gone": (repacked(data, {pdf: None}), "第 9 条记录所依据的附件"),
        "a listed file gone": (repacked(data, {png: None}), "案卷所列的附件"),
        "a stranger": (
            repacked(data, {f"attachments/{sha(b'x')}": b"x"}),
            "不是案卷所列的附件",
        ),
        "another entry": (repacked(data, {"notes.txt": b"x"}), "不属于案卷的文件 notes.txt"),
        "not a zip": (data[: len(data) // 2], "不是"),
    }
    for label, (altered, fault) in cases.items():
        path = tmp_path / f"{label}.zip"
        path.write_bytes(altered)
        report = verify_dossier_file(path, log_api.keys.public)
        assert not report.ok, label
        assert any(fault in f for f in report.faults), (label, report.faults)
    code, output = verify_cli(tmp_path / "tampered.zip", log_api.keys.public_path)
    assert code == 1 and "文件在导出后被改动过" in output

    # a file swapped together with the hash the dossier lists and the event names: the
    # chained event no longer gives its hash
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        dossier = package.read("dossier.json").decode()
    forged_sha = sha(PNG + b"forged")
    swapped = repacked(
        data,
        {
            "dossier.json": dossier.replace(sha(PDF), forged_sha).encode(),
            pdf: None,
            f"attachments/{forged_sha}": PNG + b"forged",
        },
    )
    path = tmp_path / "swapped.zip"
    path.write_bytes(swapped)
    report = verify_dossier_file(path, log_api.keys.public)
    assert "案件 L-1：第 9 条记录（序号 9，input）与其哈希值不符" in report.faults[0]


async def test_a_stored_file_altered_is_not_exported(log_api: LogApi) -> None:
    await with_files(log_api)
    await tamper(
        log_api.url,
        ("UPDATE attachments SET content = $1 WHERE sha256 = $2", [b"%PDF-forged", sha(PDF)]),
    )
    response = await log_api.http.get(URL, headers=log_api.accounts[Role.AUDITOR].headers)
    assert response.status_code == 500
    assert "与其 SHA-256 不符" in response.json()["detail"]
    assert bundle.MEDIA_TYPE not in response.headers["content-type"]
