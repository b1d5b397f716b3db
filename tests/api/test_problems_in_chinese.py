"""Every refusal of the API is a ``Problem`` a clerk can read and a program can rely on: the
``detail`` a sentence in Chinese, the ``code`` a stable ASCII identifier. Driven through the
real app on the real database (no Temporal behind it: none of these requests reaches it),
and a 422's every field-level message in Chinese, naming the field by its label."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from api.permissions import START_CASE, refusal
from tests.api.conftest import Account
from tests.workflows.scenarios import regular_case
from workflows import field_errors
from workflows.types import Role

CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
HAN = re.compile(r"[\u4e00-\u9fff]")
# an English sentence: three words of Latin letters in a row
ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")
# what a Chinese sentence may still hold in Latin letters: a header, a field's or a setting's
# name, a format
ALLOWED = ("Authorization: Bearer", "YYYY-MM-DD")


def assert_chinese_problem(answer: httpx.Response, status: int, code: str = "") -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    detail = body["detail"]
    assert HAN.search(detail), detail
    stripped = detail
    for allowed in ALLOWED:
        stripped = stripped.replace(allowed, "")
    assert not ENGLISH.search(stripped), detail
    assert CODE.match(body["code"]) and body["code"].isascii(), body
    if code:
        assert body["code"] == code, body
    return body


def case_body(**candidate: Any) -> dict[str, Any]:
    body = regular_case("ZH-1").model_dump(mode="json", exclude={"opened_by"})
    body["candidates"][0].update(candidate)
    return body


async def test_no_token_is_401_in_chinese(offline_api: httpx.AsyncClient) -> None:
    answer = await offline_api.get("/cases")
    assert_chinese_problem(answer, 401, "no_token")
    assert answer.headers["WWW-Authenticate"] == "Bearer"


async def test_a_token_that_is_not_valid_is_401_in_chinese(offline_api: httpx.AsyncClient) -> None:
    answer = await offline_api.get("/cases", headers={"Authorization": "Bearer made-up"})
    body = assert_chinese_problem(answer, 401, "token_not_valid")
    assert body["detail"] == "令牌无效或已被吊销"


async def test_a_role_not_allowed_is_403_naming_role_and_action(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    answer = await offline_api.post(
        "/cases", json=case_body(), headers=accounts[Role.AUDITOR].headers
    )
    body = assert_chinese_problem(answer, 403, "role_not_permitted")
    assert body["detail"] == refusal(START_CASE, Role.AUDITOR) == "审计人员无权新建案件"


async def test_a_step_not_for_the_role_is_403_naming_the_step(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    answer = await offline_api.post(
        "/cases/ZH-1/steps/record_vote", json={}, headers=accounts[Role.AUDITOR].headers
    )
    body = assert_chinese_problem(answer, 403, "role_not_permitted")
    assert "record_vote" not in body["detail"]


async def test_a_malformed_date_is_422_naming_the_field(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    answer = await offline_api.post(
        "/cases",
        json=case_body(birth_date="1980-13-45"),
        headers=accounts[Role.CLERK].headers,
    )
    body = assert_chinese_problem(answer, 422, "malformed")
    [problem] = body["problems"]
    assert problem["loc"] == ["body", "candidates", 0, "birth_date"]
    assert problem["msg"] == "「出生日期」格式不对，应为 YYYY-MM-DD"
    assert problem["type"] == "date_from_datetime_parsing"


async def test_every_field_message_of_a_bad_body_is_chinese(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    body = case_body(party_member="perhaps", birth_date=12.5)
    body["method"] = "by_lot"
    body["positions"] = "two"
    del body["unit"]
    answer = await offline_api.post("/cases", json=body, headers=accounts[Role.CLERK].headers)
    problems = assert_chinese_problem(answer, 422, "malformed")["problems"]
    said = {tuple(p["loc"][1:]): p["msg"] for p in problems}
    assert said[("unit",)] == "「单位」必须填写"
    assert said[("positions",)] == "「职数」应为整数"
    assert said[("method",)].startswith("「选拔方式」只能是以下之一：")
    assert said[("candidates", 0, "party_member")].startswith("「中共党员」应填“是”或“否”")
    for problem in problems:
        assert HAN.search(problem["msg"]) and not ENGLISH.search(
            problem["msg"].replace("YYYY-MM-DD", "")
        ), problem
        assert "perhaps" not in problem["msg"]  # never the input echoed back


async def test_a_body_that_is_not_json_is_422_in_chinese(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    headers = {**accounts[Role.CLERK].headers, "Content-Type": "application/json"}
    answer = await offline_api.post("/cases", content=b"{not json", headers=headers)
    assert_chinese_problem(answer, 422, "malformed")


async def test_a_bad_query_parameter_is_422_in_chinese(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    answer = await offline_api.get("/inbox?limit=0", headers=accounts[Role.CLERK].headers)
    [problem] = assert_chinese_problem(answer, 422, "malformed")["problems"]
    assert problem["loc"] == ["query", "limit"] and problem["msg"] == "「limit」不能小于 1"


async def test_no_such_route_is_404_in_chinese(offline_api: httpx.AsyncClient) -> None:
    assert_chinese_problem(await offline_api.get("/no-such-thing"), 404, "not_found")


async def test_an_oversized_body_is_413_in_chinese(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    raw = json.dumps({"padding": "x" * 2_100_000}).encode()
    headers = {**accounts[Role.CLERK].headers, "Content-Type": "application/json"}
    answer = await offline_api.post("/cases", content=raw, headers=headers)
    assert_chinese_problem(answer, 413, "too_large")


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            {"type": "missing", "loc": ("body", "meeting", "members"), "msg": "Field required"},
            "「常委会组成人数（应到）」必须填写",
        ),
        (
            {"type": "extra_forbidden", "loc": ("body", "colour"), "msg": "Extra inputs"},
            "「colour」不是可以填写的项目",
        ),
        (
            {"type": "value_error", "loc": ("body",), "msg": "Value error, 人选编号重复"},
            "人选编号重复",
        ),
        (
            {"type": "some_new_kind", "loc": ("body", "unit"), "msg": "Something odd"},
            "「单位」填写有误（some_new_kind）",
        ),
    ],
    ids=["missing", "extra", "value_error", "unknown_type"],
)
def test_the_wording_of_a_field_error(error: dict[str, Any], said: str) -> None:
    assert field_errors.message(error) == said
