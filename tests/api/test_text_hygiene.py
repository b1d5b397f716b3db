"""Control characters are refused where text enters, with a sentence in Chinese: in a body
(422 naming the field), in a listing's or the audit log's filter (422, not the 503 of a
database asked to compare U+0000), and in the console's filter forms (its 422 page).
No Temporal behind the API: a refused request never reaches it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import load_settings
from tests.api.conftest import Account, NoTemporal
from tests.web.console_fixtures import make_person, sign_in
from tests.workflows.scenarios import regular_case
from workflows.types import Role

CRLF_NAMES = ["张\r\n三", "张\n三", "张\r三", "张\t三", "张\u2028三"]


def case_body(**candidate: Any) -> bytes:
    body = regular_case("TXT-2").model_dump(mode="json", exclude={"opened_by"})
    body["candidates"][0].update(candidate)
    return json.dumps(body).encode("utf-8")


async def post_case(http: httpx.AsyncClient, clerk: Account, raw: bytes) -> httpx.Response:
    headers = {**clerk.headers, "Content-Type": "application/json"}
    return await http.post("/cases", content=raw, headers=headers)


async def test_a_nul_in_a_name_is_422_in_chinese(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    response = await post_case(offline_api, accounts[Role.CLERK], case_body(name="张\x00三"))
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["loc"] == ["body", "candidates", 0, "name"]
    assert problem["msg"] == "此处只能填一行文字，不能含空字符 NUL（U+0000）"
    assert problem["type"] == "control_character"


@pytest.mark.parametrize("name", CRLF_NAMES, ids=repr)
async def test_a_line_break_in_a_name_is_422(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], name: str
) -> None:
    response = await post_case(offline_api, accounts[Role.CLERK], case_body(name=name))
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["loc"] == ["body", "candidates", 0, "name"]
    assert problem["msg"].startswith("此处只能填一行文字，不能含")


@pytest.mark.parametrize(
    ("field", "value"),
    [("current_post", "科长\n"), ("person_id", "p\r1"), ("short_cv", "经历\x07")],
)
async def test_every_field_a_person_fills_in_is_checked(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], field: str, value: str
) -> None:
    response = await post_case(offline_api, accounts[Role.CLERK], case_body(**{field: value}))
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["loc"] == ["body", "candidates", 0, field]
    assert "U+00" in problem["msg"]


async def test_a_step_with_a_line_break_in_a_name_is_422(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    body = {"notice_issued_on": "2026-10-12", "talk_held_on": "2026-10-12", "person_id": "p1"}
    response = await offline_api.post(
        "/cases/TXT-3/steps/record_appointment",
        json={**body, "talk_by": "部长\r\nBcc: x@y.z"},
        headers=accounts[Role.CLERK].headers,
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["loc"] == ["body", "talk_by"] and "回车符" in problem["msg"]


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.CLERK, "/cases?unit=县%00局"),
        (Role.CLERK, "/inbox?case=C%001"),
        (Role.AUDITOR, "/audit/events?person=p%001"),
        (Role.AUDITOR, "/audit/events?actor=%00"),
        (Role.AUDITOR, "/audit/events?unit=县局&after=%00"),
        (Role.AUDITOR, "/audit/verify?case=C%00"),
        (Role.AUDITOR, "/probations?person=%00"),
        (Role.AUDITOR, "/probations?case=C%001"),
        (Role.AUDITOR, "/probations/C-1/P%001"),
    ],
)
async def test_a_nul_in_a_filter_is_422_not_503(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], role: Role, path: str
) -> None:
    response = await offline_api.get(path, headers=accounts[role].headers)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["type"] == "control_character" and "U+0000" in problem["msg"]


async def test_a_filter_without_one_still_answers(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    response = await offline_api.get("/cases?unit=县局", headers=accounts[Role.CLERK].headers)
    assert response.status_code == 200, response.text


# --------------------------------------------------------------------------- console


@pytest.fixture
async def console_app(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Any]:
    yield create_app(load_settings({}), NoTemporal(), session_factory)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path",
    [
        "/console/audit?person=p%001",
        "/console/audit?actor=%00",
        "/console/audit?unit=a&after=%00",
        "/console/audit/case?case=C%001",
        "/console/audit/verify?case=%00",
        "/console/?unit=县%00局",
        "/console/probation?status=%00",
    ],
)
async def test_a_nul_in_a_console_filter_is_its_422_page(
    console_app: Any, session_factory: async_sessionmaker[AsyncSession], path: str
) -> None:
    auditor = await make_person(session_factory, Role.AUDITOR)
    async with await sign_in(console_app, auditor, Role.AUDITOR) as person:
        page = await person.get(path, expect=422)
    assert "网址中的参数无法识别" in page
