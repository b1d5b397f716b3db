"""The payload codec and its keys, without a server: what it writes, that keys rotate, that a
payload naming a key this process lacks (or altered on the way) is a clear error, and that
the service's converter is built from the settings."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from gateway.client import DATA_CONVERTER, data_converter
from gateway.payload_codec import ENCODING, KEY_ID, EncryptionCodec, is_encrypted
from gateway.payload_keys import (
    KEY_BYTES,
    PayloadKeyError,
    PayloadKeys,
    key_id,
    load_payload_keys,
    read_key_file,
    write_key_file,
)
from settings import load_settings
from workflows.types import Candidate

NAME = "隐私测试甲"
KEY_A = bytes(range(KEY_BYTES))
KEY_B = bytes(range(100, 100 + KEY_BYTES))


def plain(text: str = NAME) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_payload_is_encrypted_whole_and_names_its_key() -> None:
    codec = EncryptionCodec(PayloadKeys.of([KEY_A]))
    original = plain()
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING == b"binary/encrypted"
    assert sealed.metadata[KEY_ID] == key_id(KEY_A).encode()
    assert set(sealed.metadata) == {"encoding", KEY_ID}  # the original metadata is inside
    assert NAME.encode() not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()
    [again] = await codec.encode([original])
    assert again.data != sealed.data  # a fresh nonce every time
    assert await codec.decode([sealed]) == [original]


async def test_keys_rotate_and_the_old_payloads_still_decode() -> None:
    old = EncryptionCodec(PayloadKeys.of([KEY_A]))
    [written_with_a] = await old.encode([plain("甲")])
    rotated = EncryptionCodec(PayloadKeys.of([KEY_B, KEY_A]))  # B active, A kept
    [written_with_b] = await rotated.encode([plain("乙")])
    assert written_with_b.metadata[KEY_ID] == key_id(KEY_B).encode()
    assert await rotated.decode([written_with_a, written_with_b]) == [plain("甲"), plain("乙")]
    # A alone cannot read what B wrote, and says which key it lacks
    with pytest.raises(PayloadKeyError, match=key_id(KEY_B)) as refused:
        await old.decode([written_with_b])
    assert "PAYLOAD_KEY_FILES" in str(refused.value)


async def test_an_unknown_key_id_and_an_altered_payload_are_clear_errors() -> None:
    codec = EncryptionCodec(PayloadKeys.of([KEY_A]))
    [sealed] = await codec.encode([plain()])
    unknown = Payload(metadata={"encoding": ENCODING, KEY_ID: b"0123456789abcdef"}, data=b"x")
    with pytest.raises(PayloadKeyError, match="'0123456789abcdef' 加密的，不在本进程的"):
        await codec.decode([unknown])
    nameless = Payload(metadata={"encoding": ENCODING}, data=sealed.data)
    with pytest.raises(PayloadKeyError, match="没有注明密钥"):
        await codec.decode([nameless])
    altered = Payload()
    altered.CopyFrom(sealed)
    altered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(PayloadKeyError, match="载荷被改动或已损坏"):
        await codec.decode([altered])
    # the key id is authenticated too: the same bytes under another of our keys do not open
    other = EncryptionCodec(PayloadKeys.of([KEY_B, KEY_A]))
    moved = Payload(metadata={"encoding": ENCODING, KEY_ID: key_id(KEY_B).encode()})
    moved.data = sealed.data
    with pytest.raises(PayloadKeyError, match="载荷被改动或已损坏"):
        await other.decode([moved])


async def test_a_plain_payload_passes_through() -> None:
    codec = EncryptionCodec(PayloadKeys.of([KEY_A]))
    recorded_before = plain()
    assert await codec.decode([recorded_before]) == [recorded_before]
    assert not is_encrypted(recorded_before)


def test_key_files(tmp_path: Path) -> None:
    path = tmp_path / "payload.key"
    ident = write_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key_file(path)
    assert len(key) == KEY_BYTES and key_id(key) == ident
    with pytest.raises(PayloadKeyError, match="已存在"):
        write_key_file(path)
    assert read_key_file(path) == key  # not overwritten

    short = tmp_path / "short.key"
    short.write_text(base64.b64encode(b"x" * 16).decode())
    not_base64 = tmp_path / "text.key"
    not_base64.write_text("correct horse battery staple")
    for bad in (short, not_base64):
        with pytest.raises(PayloadKeyError, match="不是载荷密钥"):
            read_key_file(bad)
    with pytest.raises(PayloadKeyError, match="无法读取载荷密钥"):
        read_key_file(tmp_path / "missing.key")

    second = tmp_path / "second.key"
    write_key_file(second)
    keys = load_payload_keys([second, path])
    assert keys is not None and keys.active_id == key_id(read_key_file(second))
    assert set(keys.by_id) == {ident, keys.active_id}
    assert load_payload_keys([]) is None


async def test_the_converter_follows_the_settings(tmp_path: Path) -> None:
    assert data_converter(load_settings({})) is DATA_CONVERTER
    assert DATA_CONVERTER.payload_codec is None

    first, second = tmp_path / "a.key", tmp_path / "b.key"
    write_key_file(first)
    write_key_file(second)
    settings = load_settings({"PAYLOAD_KEY_FILES": f"{first}, {second}"})
    assert settings.payload_key_files == (first, second)
    converter = data_converter(settings)
    candidate = Candidate(person_id="p1", name=NAME, current_post="科长", current_rank="正科")
    [payload] = await converter.encode([candidate])
    assert is_encrypted(payload) and NAME.encode() not in payload.data
    assert payload.metadata[KEY_ID] == key_id(read_key_file(first)).encode()
    assert await converter.decode([payload], [Candidate]) == [candidate]
    # failures are encoded too: a refusal's message may quote what it refused
    failure = Failure()
    await converter.encode_failure(ValueError(f"{NAME} is not eligible"), failure)
    assert NAME.encode() not in failure.SerializeToString()
    assert f"{NAME} is not eligible" in str(await converter.decode_failure(failure))

    # a process without the keys says what is missing instead of failing obscurely
    with pytest.raises(PayloadKeyError, match="本进程没有载荷密钥：请把 PAYLOAD_KEY_FILES"):
        await DATA_CONVERTER.decode([payload], [Candidate])
    # ... and a file that is not a key is refused when the converter is made
    (tmp_path / "bad.key").write_text("nope")
    with pytest.raises(PayloadKeyError, match=r"PAYLOAD_KEY_FILES：.*bad\.key 不是载荷密钥"):
        data_converter(load_settings({"PAYLOAD_KEY_FILES": str(tmp_path / "bad.key")}))


def test_the_command_line_names_a_missing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from starter.cli import EXIT_UNREACHABLE, run

    monkeypatch.setenv("PAYLOAD_KEY_FILES", str(tmp_path / "missing.key"))
    assert run(["schedule", "list"]) == EXIT_UNREACHABLE
    err = capsys.readouterr().err
    assert "PAYLOAD_KEY_FILES：无法读取载荷密钥" in err and "Traceback" not in err


def test_encryption_keygen_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from starter.cli import EXIT_INPUT, run

    new, old = tmp_path / "new.key", tmp_path / "old.key"
    assert run(["encryption", "keygen", "--out", str(old)]) == 0
    assert run(["encryption", "keygen", "--out", str(new)]) == 0
    assert run(["encryption", "keygen", "--out", str(new)]) == EXIT_INPUT  # never overwritten
    capsys.readouterr()
    monkeypatch.setenv("PAYLOAD_KEY_FILES", f"{new},{old}")
    assert run(["encryption", "keys"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{key_id(read_key_file(new))}  {new}  （加密和解密）",
        f"{key_id(read_key_file(old))}  {old}  （仅解密）",
    ]
    assert base64.b64encode(read_key_file(new)).decode() not in "\n".join(lines)
