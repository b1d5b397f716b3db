"""The meeting file of ``appointments vote record`` takes the attendance and each item's
withdrawals (回避), and the command checks them before sending anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from starter.cli_base import Refused
from starter.inputs import MeetingFile, check_meeting, load_model


def meeting_file(tmp_path: Path, withdrawn: list[str], agree: int) -> Path:
    data: dict[str, Any] = {
        "meeting_id": "XWCW-2026-21",
        "held_on": "2026-11-10",
        "members": 11,
        "present": 9,
        "method": "secret_ballot",
        "attendees": [f"常委{i}" for i in range(1, 10)],
        "items": [
            {
                "case_id": "GY-2026-017",
                "person_id": "P-17003",
                "agree": agree,
                "disagree": 9 - len(withdrawn) - agree,
                "withdrawn": withdrawn,
            }
        ],
    }
    path = tmp_path / "meeting.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def test_the_meeting_file_records_withdrawals_per_item(tmp_path: Path) -> None:
    path = meeting_file(tmp_path, ["常委1", "常委2"], 5)
    file = load_model(MeetingFile, path)
    assert file.meeting().attendees[0] == "常委1"
    assert file.items[0].withdrawn == ["常委1", "常委2"]
    described = check_meeting(path, file)
    assert described[("GY-2026-017", "P-17003")] == (
        "通过：应到 11 人，回避 2 人（常委1、常委2），计 9 人，同意 5 人，至少须 5 人同意"
    )


def test_a_withdrawal_of_a_member_not_present_is_refused_before_sending(tmp_path: Path) -> None:
    path = meeting_file(tmp_path, ["常委10"], 5)
    with pytest.raises(Refused) as e:
        check_meeting(path, load_model(MeetingFile, path))
    assert "P-17003 的回避成员常委10不在到会成员名单中" in str(e.value)
