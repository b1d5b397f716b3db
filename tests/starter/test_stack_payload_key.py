"""The command line finds the embedded stack's payload key in its data folder, so what it
sends the stack (a case file with its candidates' names) is encrypted as the stack's own
worker and web service encrypt it, never written in plain text beside them."""

from __future__ import annotations

from pathlib import Path

from temporalio.api.common.v1 import Payload

from gateway.client import data_converter
from gateway.payload_keys import EMBEDDED_KEY_FILE, write_key_file
from settings import load_settings
from starter.cli import with_stack_payload_key
from tests.workflows.scenarios import regular_case


async def test_the_stacks_own_key_is_found_and_used(tmp_path: Path) -> None:
    write_key_file(tmp_path / EMBEDDED_KEY_FILE)
    settings = with_stack_payload_key(load_settings({"DATA_DIR": str(tmp_path)}))
    assert settings.payload_key_files == (tmp_path / EMBEDDED_KEY_FILE,)
    [payload] = await data_converter(settings).encode([regular_case("C-1")])
    assert isinstance(payload, Payload)
    assert payload.metadata["encoding"] == b"binary/encrypted"
    assert "张三".encode() not in payload.data


def test_a_setting_wins_and_no_stack_changes_nothing(tmp_path: Path) -> None:
    write_key_file(tmp_path / EMBEDDED_KEY_FILE)
    named = tmp_path / "named.key"
    write_key_file(named)
    chosen = load_settings({"DATA_DIR": str(tmp_path), "PAYLOAD_KEY_FILES": str(named)})
    assert with_stack_payload_key(chosen).payload_key_files == (named,)
    elsewhere = load_settings({"DATA_DIR": str(tmp_path / "no-stack")})
    assert with_stack_payload_key(elsewhere).payload_key_files == ()
