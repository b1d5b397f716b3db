"""The codec endpoint the Temporal Web UI decodes through: who gets an answer (a console
session or an API token of an auditor or an administrator), what the browser is allowed
(CORS for the UI's origin only), and what it answers, on the real test database. Temporal
itself is not needed: the endpoint uses only the codec of the service's client (a lazy
client that is never reached); tests/test_payload_privacy.py decodes a real case's history.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client

from api.app import create_app
from api.permissions import DECODE_PAYLOADS, refusal
from gateway.client import data_converter
from gateway.payload_codec import ENCODING, KEY_ID, EncryptionCodec
from gateway.payload_keys import PayloadKeys, load_payload_keys, write_key_file
from settings import load_settings
from store.console_models import set_password, sign_in
from tests.api.conftest import Account, client_for, make_account
from web.console.auth import COOKIE
from workflows.types import Role

UI = "http://127.0.0.1:8233"
NAME = "隐私测试乙"


def as_json(*payloads: Payload) -> dict[str, object]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


def from_json(body: dict[str, object]) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


def plain(text: str = NAME) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


class Codec:
    def __init__(self, http: httpx.AsyncClient, keys: PayloadKeys) -> None:
        self.http = http
        self.codec = EncryptionCodec(keys)

    async def sealed(self, text: str = NAME) -> Payload:
        [payload] = await self.codec.encode([plain(text)])
        return payload


@pytest.fixture
async def codec_api(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Codec]:
    key = tmp_path / "payload.key"
    write_key_file(key)
    settings = load_settings({"PAYLOAD_KEY_FILES": str(key), "TEMPORAL_UI_ORIGINS": UI})
    # port 1 refuses connections: the endpoint must never need the server
    client = await Client.connect("127.0.0.1:1", lazy=True, data_converter=data_converter(settings))
    keys = load_payload_keys(settings.payload_key_files)
    assert keys is not None
    async with client_for(create_app(settings, client, session_factory)) as http:
        yield Codec(http, keys)


def session_cookie(key: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={key}"}


async def console_session(sessions: async_sessionmaker[AsyncSession], account: Account) -> str:
    password = secrets.token_urlsafe(12)
    async with sessions() as s:
        await set_password(s, account.name, password)
        made = await sign_in(s, account.name, password, timedelta(hours=1))
        await s.commit()
    assert made is not None
    return made[0]


async def test_an_auditor_decodes_by_token_and_an_administrator_by_console_session(
    codec_api: Codec, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    sealed, passed_through = await codec_api.sealed(), plain("公开内容")
    body = as_json(sealed, passed_through)
    auditor = await make_account(session_factory, Role.AUDITOR)
    answer = await codec_api.http.post("/codec/decode", json=body, headers=auditor.headers)
    assert answer.status_code == 200, answer.text
    assert from_json(answer.json()) == [plain(), passed_through]
    assert answer.headers["cache-control"] == "no-store"

    # the Web UI in the browser where the administrator signed in to the console
    admin = await make_account(session_factory, Role.ADMINISTRATOR)
    cookie = await console_session(session_factory, admin)
    answer = await codec_api.http.post(
        "/codec/default/decode",
        json=body,
        headers={"Origin": UI, "X-Namespace": "default", **session_cookie(cookie)},
    )
    assert answer.status_code == 200, answer.text
    assert from_json(answer.json()) == [plain(), passed_through]
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"


async def test_nobody_else_gets_the_data(
    codec_api: Codec, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    body = as_json(await codec_api.sealed())
    clerk = await make_account(session_factory, Role.CLERK)
    head = await make_account(session_factory, Role.DEPARTMENT_HEAD)
    answers = {
        "nobody": await codec_api.http.post("/codec/decode", json=body),
        "a stranger's cookie": await codec_api.http.post(
            "/codec/decode", json=body, headers=session_cookie(secrets.token_urlsafe(32))
        ),
        "a bad token": await codec_api.http.post(
            "/codec/decode", json=body, headers={"Authorization": "Bearer not-a-token"}
        ),
        "a clerk's token": await codec_api.http.post(
            "/codec/decode", json=body, headers=clerk.headers
        ),
        "a head's console session": await codec_api.http.post(
            "/codec/decode",
            json=body,
            headers=session_cookie(await console_session(session_factory, head)),
        ),
    }
    statuses = {who: answer.status_code for who, answer in answers.items()}
    assert statuses == {
        "nobody": 401,
        "a stranger's cookie": 401,
        "a bad token": 401,
        "a clerk's token": 403,
        "a head's console session": 403,
    }
    assert answers["nobody"].json()["code"] == "not_signed_in"
    assert "请先在本浏览器中登录管理台" in answers["nobody"].json()["detail"]
    assert answers["a clerk's token"].json()["detail"] == refusal(DECODE_PAYLOADS, Role.CLERK)
    assert answers["a clerk's token"].json()["code"] == "role_not_permitted"
    for answer in answers.values():
        assert NAME not in answer.text


async def test_only_an_administrator_encodes(
    codec_api: Codec, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    body = as_json(plain())
    auditor = await make_account(session_factory, Role.AUDITOR)
    refused = await codec_api.http.post("/codec/encode", json=body, headers=auditor.headers)
    assert refused.status_code == 403
    admin = await make_account(session_factory, Role.ADMINISTRATOR)
    answer = await codec_api.http.post("/codec/encode", json=body, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    [sealed] = from_json(answer.json())
    assert sealed.metadata["encoding"] == ENCODING
    assert await codec_api.codec.decode([sealed]) == [plain()]


async def test_the_browser_may_call_it_from_the_ui_origin_only(codec_api: Codec) -> None:
    preflight = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    answer = await codec_api.http.options("/codec/decode", headers=preflight)
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed_headers = answer.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= {
        h.strip() for h in allowed_headers.split(",")
    }

    elsewhere = {**preflight, "Origin": "http://127.0.0.1:9999"}
    answer = await codec_api.http.options("/codec/decode", headers=elsewhere)
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    answer = await codec_api.http.post(
        "/codec/decode", json=as_json(plain()), headers={"Origin": "http://evil.example"}
    )
    assert answer.status_code == 403
    assert "TEMPORAL_UI_ORIGINS" in answer.json()["detail"]
    # other routes of the service know nothing of the UI's origin
    answer = await codec_api.http.options("/cases", headers=preflight)
    assert "access-control-allow-origin" not in answer.headers


async def test_what_it_cannot_decode_is_said(
    codec_api: Codec, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    auditor = await make_account(session_factory, Role.AUDITOR)
    foreign = Payload(metadata={"encoding": ENCODING, KEY_ID: b"0123456789abcdef"}, data=b"x")
    answer = await codec_api.http.post(
        "/codec/decode", json=as_json(foreign), headers=auditor.headers
    )
    assert answer.status_code == 400
    assert "0123456789abcdef" in answer.json()["detail"]
    other_namespace = await codec_api.http.post(
        "/codec/decode",
        json=as_json(plain()),
        headers={**auditor.headers, "X-Namespace": "someone-else"},
    )
    assert other_namespace.status_code == 404
    for content in (b"not json", b'{"payloads": "x"}', b'{"payloads": [{"metadata": 5}]}'):
        malformed = await codec_api.http.post(
            "/codec/decode",
            content=content,
            headers={**auditor.headers, "Content-Type": "application/json"},
        )
        assert malformed.status_code == 422, content
    # the proto JSON form: bytes as base64
    raw = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}}]}
    answer = await codec_api.http.post("/codec/decode", json=raw, headers=auditor.headers)
    assert answer.status_code == 200
    assert answer.json() == raw


async def test_without_keys_plain_passes_and_encrypted_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    settings = load_settings({})
    client = await Client.connect("127.0.0.1:1", lazy=True, data_converter=data_converter(settings))
    auditor = await make_account(session_factory, Role.AUDITOR)
    sealed = await EncryptionCodec(PayloadKeys.of([bytes(32)])).encode([plain()])
    async with client_for(create_app(settings, client, session_factory)) as http:
        answer = await http.post("/codec/decode", json=as_json(plain()), headers=auditor.headers)
        assert answer.status_code == 200 and from_json(answer.json()) == [plain()]
        answer = await http.post("/codec/decode", json=as_json(*sealed), headers=auditor.headers)
        assert answer.status_code == 400
        assert "PAYLOAD_KEY_FILES" in answer.json()["detail"]
