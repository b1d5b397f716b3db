"""Who may do what: every role against every action, and the bearer token itself.

The matrix sends a malformed request, so an allowed role gets 422 (its request was read and
refused for its shape) and a denied role 403, before anything reaches Temporal (the client
here fails any test that touches it).
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.permissions import ALLOWED
from api.schemas import STEP_INPUTS
from store.account_models import hash_token, revoke_token
from tests.api.conftest import PERSON_ROLES, Account, make_account
from workflows.types import Role

C, S, H, T, V, A, M = (
    Role.CLERK,
    Role.SECTION_CHIEF,
    Role.DEPARTMENT_HEAD,
    Role.INSPECTION_TEAM,
    Role.COMMITTEE_SECRETARY,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
)
EVERYONE = {C, S, H, T, V, A, M}

# The brief, written out independently of api.permissions: action -> roles allowed.
EXPECTED: dict[str, set[Role]] = {
    "read_cases": EVERYONE,
    "read_inbox": EVERYONE,
    "read_audit": {A, H},
    "start_case": {C},
    "record_registration": {C},
    "record_written_test": {C},
    "record_interview": {C},
    "record_investigation_notice": {C},
    "record_inspection_team": {T},
    "record_inspection_check": {T},
    "record_democratic_evaluation": {T},
    "record_inspection_report": {T},
    "conclude_inspection": {C},
    "record_higher_approval": {H},
    "record_vote": {V},
    "record_public_notice": {C},
    "record_objection": {C},
    "record_objection_verdict": {C},
    "decide_suspension": {H},
    "record_appointment": {C},
    "withdraw": {C, H},
    "retry_blocked": {M},
}

CASE = "MATRIX-1"
MALFORMED: dict[str, object] = {"no_such_field": 1}


def malformed_request(action: str) -> tuple[str, str, dict[str, object] | None]:
    """(method, url, json body) of a request of ``action`` that cannot be well formed."""
    if action in STEP_INPUTS:
        return "POST", f"/cases/{CASE}/steps/{action}", MALFORMED
    requests: dict[str, tuple[str, str, dict[str, object] | None]] = {
        "start_case": ("POST", "/cases", MALFORMED),
        "read_cases": ("GET", "/cases?limit=0", None),
        "read_inbox": ("GET", "/inbox?limit=0", None),
        "read_audit": ("GET", "/cases/bad!id/timeline", None),
    }
    return requests[action]


def test_the_table_is_the_brief() -> None:
    assert {a: set(r) for a, r in ALLOWED.items()} == EXPECTED
    assert not any(Role.SYSTEM in roles for roles in ALLOWED.values())


async def test_every_role_against_every_action(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    wrong: list[str] = []
    for action, allowed in EXPECTED.items():
        method, url, body = malformed_request(action)
        for role in PERSON_ROLES:
            response = await offline_api.request(
                method, url, json=body, headers=accounts[role].headers
            )
            expected = 422 if role in allowed else 403
            if response.status_code != expected:
                wrong.append(f"{role.value} {action}: {response.status_code}, not {expected}")
    assert wrong == []


@pytest.mark.parametrize("role", PERSON_ROLES)
async def test_a_case_read_is_checked_before_its_id(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], role: Role
) -> None:
    response = await offline_api.get("/cases/bad!id", headers=accounts[role].headers)
    assert response.status_code == 422  # every role reads cases


async def test_withdraw_by_its_own_name_has_the_same_roles(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    for role in PERSON_ROLES:
        response = await offline_api.post(
            f"/cases/{CASE}/withdraw", json=MALFORMED, headers=accounts[role].headers
        )
        assert response.status_code == (422 if role in EXPECTED["withdraw"] else 403), role


async def test_an_inbox_of_another_role_is_for_overseers_only(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    clerk = await offline_api.get("/inbox?role=auditor", headers=accounts[C].headers)
    assert clerk.status_code == 403
    head = await offline_api.get("/inbox?role=clerk", headers=accounts[H].headers)
    assert head.status_code == 200
    own = await offline_api.get("/inbox", headers=accounts[C].headers)
    assert own.status_code == 200
    # other tests share the database: whatever is there is addressed to the clerk's role
    assert all(m["recipient_role"] == "clerk" for m in own.json())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
    ids=["missing", "empty", "basic", "unknown", "huge"],
)
async def test_no_usable_token_is_401(
    offline_api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for method, url in [("GET", "/cases"), ("POST", f"/cases/{CASE}/steps/record_vote")]:
        response = await offline_api.request(method, url, json=MALFORMED, headers=headers)
        assert response.status_code == 401, (method, url)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"]


async def test_a_revoked_token_is_401(
    offline_api: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    account = await make_account(session_factory, Role.CLERK)
    assert (await offline_api.get("/cases", headers=account.headers)).status_code == 200
    async with session_factory() as s:
        assert await revoke_token(s, account.token_id)
        await s.commit()
    response = await offline_api.get("/cases", headers=account.headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_only_the_hash_of_a_token_is_stored(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    from sqlalchemy import text

    account = await make_account(session_factory, Role.AUDITOR)
    async with session_factory() as s:
        stored = await s.scalar(
            text("SELECT token_hash FROM api_tokens WHERE id = :id"), {"id": account.token_id}
        )
    assert stored == hash_token(account.token) != account.token
    assert len(stored) == 64


async def test_the_openapi_document_lists_every_step(offline_api: httpx.AsyncClient) -> None:
    response = await offline_api.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for update in STEP_INPUTS:
        operation = paths[f"/cases/{{case_id}}/steps/{update}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = response.json()["components"]["schemas"][body.rsplit("/", 1)[1]]
        assert "actor" not in schema["properties"]
    assert {"/cases", "/cases/{case_id}", "/inbox", "/cases/{case_id}/timeline"} <= set(paths)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[1, 2, 3]",
        b'"text"',
        b"\xff\xfe\x00",
        b'{"meeting": {"members": 1e400}}',
        b'{"meeting": {"held_on": "2026-13-45"}, "items": "x"}',
        b'{"items": [' + b"{}," * 2000 + b"{}]}",
    ],
    ids=["empty", "text", "array", "string", "binary", "huge-number", "bad-date", "many"],
)
async def test_no_request_content_is_a_500(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], content: bytes
) -> None:
    secretary = accounts[Role.COMMITTEE_SECRETARY].headers
    for url in (f"/cases/{CASE}/steps/record_vote", "/cases"):
        headers = {**secretary, "Content-Type": "application/json"}
        if url == "/cases":
            headers = {**accounts[Role.CLERK].headers, "Content-Type": "application/json"}
        response = await offline_api.post(url, content=content, headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["detail"]


async def test_temporal_out_of_reach_is_503(
    session_factory: async_sessionmaker[AsyncSession], accounts: dict[Role, Account]
) -> None:
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from api.app import create_app
    from settings import load_settings
    from tests.api.conftest import client_for
    from tests.workflows.scenarios import regular_case

    # Port 1 refuses connections; a lazy client fails on first use, as a lost server does.
    dead = await Client.connect("127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter)
    app = create_app(load_settings({}), dead, session_factory)
    clerk, auditor = accounts[C].headers, accounts[A].headers
    body = regular_case("DEAD-1").model_dump(mode="json", exclude={"opened_by"})
    async with client_for(app) as http:
        responses = [
            await http.post("/cases", json=body, headers=clerk),
            await http.post("/cases/DEAD-1/steps/withdraw", json={"reason": "撤销"}, headers=clerk),
            await http.get("/cases/DEAD-1", headers=auditor),
        ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert "Temporal cannot be reached" in response.json()["detail"]
