"""What the API refuses by its size or its characters, before anything reaches Temporal (the
stand-in client fails the test if anything did): bodies over the limit, inputs too large
for one Temporal payload, text PostgreSQL or UTF-8 cannot hold."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from api.errors import ApiError
from api.limits import MAX_BODY_BYTES
from api.temporal import MAX_INPUT_BYTES, check_size
from tests.api.conftest import Account
from tests.workflows.scenarios import CLERK, regular_case
from workflows.types import Role, WithdrawInput


async def test_a_body_over_the_limit_is_413_whether_or_not_it_says_its_length(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    clerk = accounts[Role.CLERK].headers
    big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    declared = await offline_api.post("/cases", content=big, headers=clerk)
    assert declared.status_code == 413
    assert "请求超过 2,000,000 字节" in declared.json()["detail"]
    assert declared.json()["code"] == "too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    streamed = await offline_api.post(
        "/cases", content=chunks(), headers={**clerk, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_a_body_under_the_limit_is_read_as_usual(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    response = await offline_api.post(
        "/cases", content=b"{}", headers={**accounts[Role.CLERK].headers, "X": "y"}
    )
    assert response.status_code == 422  # read, and found malformed


def test_an_input_too_large_for_one_payload_is_413_before_it_is_sent() -> None:
    check_size("a small input", WithdrawInput(actor=CLERK, reason="机构改革"))
    case = regular_case("BIG-1")
    for c in case.candidates:
        c.short_cv = "简" * 15_000
    grown = case.model_copy(update={"candidates": case.candidates * 40})
    with pytest.raises(ApiError) as refused:
        check_size("case BIG-1", grown)
    assert refused.value.status == 413
    assert f"一次最多只能向案件发送 {MAX_INPUT_BYTES:,} 字节" in refused.value.detail
    assert refused.value.code == "too_large"


@pytest.mark.parametrize(
    ("text", "said"),
    [("县\x00局", "U+0000"), ("县\udc80局", "lone surrogate"), ("局" * 20_001, "at most 20000")],
)
async def test_text_that_cannot_be_stored_is_422_naming_the_field(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], text: str, said: str
) -> None:
    body = regular_case("TXT-1").model_dump(mode="json", exclude={"opened_by"})
    body["candidates"][0]["short_cv"] = text  # a field with no length of its own
    raw = json.dumps(body).encode("utf-8")  # a lone surrogate goes as its \\u escape
    headers = {**accounts[Role.CLERK].headers, "Content-Type": "application/json"}
    response = await offline_api.post("/cases", content=raw, headers=headers)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["loc"] == ["body", "candidates", 0, "short_cv"]
    assert said.lower() in problem["msg"].lower()
