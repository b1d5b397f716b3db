"""Who may do what: every role against every action on every endpoint, and the bearer token.

The matrix sends a malformed request, so an allowed role gets 422 (its request was read and
refused for its shape) and a denied role 403, before anything reaches Temporal (the client
here fails any test that touches it). Every route of the API's routers is in it.

The rules that narrow the table for one case or one probation (the case's own inspection
team, the probation's policy) need the live state: tests/api/test_cases.py and
test_probation.py.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.permissions import (
    ALLOWED,
    TEAM_ACTIONS,
    may_mark_read,
    must_be_on_team,
    refusal,
)
from api.routers import (
    attachments,
    audit,
    cadre,
    cases,
    codec,
    extension_requests,
    informants,
    probation,
    reads,
    register,
    rotation_batch,
    steps,
)
from api.schemas import STEP_INPUTS
from gateway.errors import TEMPORAL_UNREACHABLE
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
    "mark_inbox_read": EVERYONE,  # its own role's messages; see the overseers' test
    "read_audit": {A, H},
    "export_audit": {A, H},
    "export_audit_files": {A, H},
    "verify_audit": {A, H, M},
    "start_case": {C},
    "record_registration": {C},
    "record_written_test": {C},
    "record_interview": {C},
    "record_investigation_notice": {C},
    "record_inspection_team": {C},
    "record_inspection_check": {T},  # members of the case's team only
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
    "declare_relationship": {C, S, V},  # kinships for recusal (回避); the secretary at a meeting
    "extend_deadline": {S, H},  # 延期; the policy narrows it further
    "retry_blocked": {M},
    "read_probations": EVERYONE,
    # anyone but an auditor may ask; the probation's own policy names who may record
    "record_probation_review": EVERYONE - {A},
    "end_probation_early": EVERYONE - {A},
    # the codec endpoint of the Temporal Web UI: those who may read everything decrypt, only
    # an administrator encrypts (what is sent to a workflow from the UI)
    "decode_payloads": {A, M},
    "encode_payloads": {M},
    "disclose_informants": {C, H},  # who verifies objections, and the head; with a reason
    "enter_calendar_year": {M},  # the console's calendar page (tests/web/test_console_calendar)
    "read_reports": {S, H, A, M},  # the console's reports page (tests/web/test_reports)
    "attach_file": {C, S, H, T, V},  # who takes a case's steps (not the administrator's retry)
    # 认领/指派: every role responsible for a step, and the leadership; the rule narrows it
    "assign_step": {C, S, H, T, V},
    "set_substitute": EVERYONE - {A},  # 代理: one's own; an administrator anyone's
    # 延期申请: whoever acts on a step asks (the rule narrows it); the approvers decide (the
    # policy narrows them)
    "request_extension": {C, S, H, T, V},
    "decide_extension": {S, H},
    # 干部名册: read by who does or checks cadre work, imported by the clerks and their chief;
    # rotation (交流) decided by the head
    "read_register": {C, S, H, A},
    "change_register": {C, S},
    "decide_rotation": {H},
    # 能力测试、双重考核: read by cadre work and its checkers, started by the clerks and their
    # chief; each step asked by anyone but the auditor, the workflow's policy decides
    "read_cadre_work": {C, S, H, V, A},
    "start_capability_test": {C, S},
    "start_double_evaluation": {C, S},
    "record_retest": EVERYONE - {A},
    "record_handling": EVERYONE - {A},
    "record_removal_vote": EVERYONE - {A},
    # 交流批次: made by cadre work from the head's decisions; each move's step asked by anyone
    # but the auditor, the batch's policy decides
    "make_rotation_batch": {C, S, H},
    "record_rotation_document": EVERYONE - {A},
    "record_rotation_arrival": EVERYONE - {A},
    "cancel_rotation_move": EVERYONE - {A},
}

CASE = "MATRIX-1"
PROBATION = f"/probations/{CASE}/P1"
MALFORMED: dict[str, object] = {"no_such_field": 1}

# action -> each endpoint doing it: (method, path template, a request that cannot be well
# formed: url and json body)
Request = tuple[str, str, str, dict[str, object] | None]
REQUESTS: dict[str, list[Request]] = {
    **{
        update: [
            (
                "POST",
                f"/cases/{{case_id}}/steps/{update}",
                f"/cases/{CASE}/steps/{update}",
                MALFORMED,
            )
        ]
        for update in STEP_INPUTS
    },
    "start_case": [("POST", "/cases", "/cases", MALFORMED)],
    "read_cases": [
        ("GET", "/cases", "/cases?limit=0", None),
        ("GET", "/cases/{case_id}", "/cases/bad!id", None),
        ("GET", "/cases/{case_id}/attachments", "/cases/bad!id/attachments", None),
        (
            "GET",
            "/cases/{case_id}/attachments/{sha256}",
            f"/cases/{CASE}/attachments/not-a-hash",
            None,
        ),
    ],
    "attach_file": [("POST", "/cases/{case_id}/attachments", "/cases/bad!id/attachments", None)],
    "read_inbox": [("GET", "/inbox", "/inbox?limit=0", None)],
    "mark_inbox_read": [("POST", "/inbox/{message_id}/read", "/inbox/abc/read", None)],
    "read_audit": [
        ("GET", "/cases/{case_id}/timeline", "/cases/bad!id/timeline", None),
        ("GET", "/audit/events", "/audit/events?page_size=0", None),
        ("GET", "/audit/cases/{case_id}/as-of/{on}", f"/audit/cases/{CASE}/as-of/someday", None),
    ],
    "export_audit": [
        (
            "GET",
            "/audit/cases/{case_id}/dossier",
            f"/audit/cases/{CASE}/dossier?format=pdf",
            None,
        )
    ],
    "export_audit_files": [
        ("GET", "/audit/cases/{case_id}/dossier.zip", "/audit/cases/bad!id/dossier.zip", None)
    ],
    "verify_audit": [
        ("GET", "/audit/verify", "/audit/verify?checkpoints=-1", None),
        ("GET", "/audit/checkpoints", "/audit/checkpoints?limit=0", None),
    ],
    "read_probations": [
        ("GET", "/probations", "/probations?due_before=soon", None),
        ("GET", "/probations/{case_id}/{person_id}", "/probations/bad!id/P1", None),
    ],
    "record_probation_review": [
        ("POST", "/probations/{case_id}/{person_id}/review", f"{PROBATION}/review", MALFORMED)
    ],
    "end_probation_early": [
        (
            "POST",
            "/probations/{case_id}/{person_id}/end-early",
            f"{PROBATION}/end-early",
            MALFORMED,
        )
    ],
    "decode_payloads": [
        ("POST", "/codec/decode", "/codec/decode", MALFORMED),
        ("POST", "/codec/{namespace}/decode", "/codec/default/decode", MALFORMED),
    ],
    "encode_payloads": [
        ("POST", "/codec/encode", "/codec/encode", MALFORMED),
        ("POST", "/codec/{namespace}/encode", "/codec/default/encode", MALFORMED),
    ],
    "disclose_informants": [
        ("POST", "/cases/{case_id}/informants", f"/cases/{CASE}/informants", MALFORMED)
    ],
    "enter_calendar_year": [],  # no API route: the console's calendar page only
    "read_reports": [],  # no API route: the console's reports page only
    "set_substitute": [],  # no API route: the console's substitutes page only
    "request_extension": [
        (
            "POST",
            "/cases/{case_id}/extension-requests",
            f"/cases/{CASE}/extension-requests",
            MALFORMED,
        ),
        (
            "POST",
            "/extension-requests/{request_id}/withdraw",
            "/extension-requests/abc/withdraw",
            None,
        ),
    ],
    "decide_extension": [
        ("GET", "/extension-requests/pending", "/extension-requests/pending?limit=0", None),
        (
            "POST",
            "/extension-requests/{request_id}/approve",
            "/extension-requests/abc/approve",
            None,
        ),
        (
            "POST",
            "/extension-requests/{request_id}/refuse",
            "/extension-requests/1/refuse",
            MALFORMED,
        ),
    ],
}
REQUESTS |= {
    "read_register": [
        ("GET", "/register", "/register?limit=0", None),
        ("GET", "/register/people/{person_id}", "/register/people/bad!id", None),
        ("GET", "/register/rotations", "/register/rotations?limit=0", None),
        ("GET", "/register/rotations/{scan_id}", "/register/rotations/bad!id", None),
    ],
    # no reason given: refused for its shape before the file is read
    "change_register": [
        ("POST", "/register/import/{kind}", "/register/import/register-people", None)
    ],
    "decide_rotation": [
        (
            "POST",
            "/register/rotations/{scan_id}/{person_id}",
            "/register/rotations/s1/R1",
            MALFORMED,
        )
    ],
}
# Withdrawing is also reachable by its own name.
REQUESTS["read_cases"].append(
    (
        "GET",
        "/cases/{case_id}/extension-requests",
        "/cases/bad!id/extension-requests",
        None,
    )
)
CAMPAIGN, EVALUATION = "/capability-tests", "/double-evaluations"
REQUESTS |= {
    "read_cadre_work": [
        ("GET", CAMPAIGN, f"{CAMPAIGN}?limit=0", None),
        ("GET", f"{CAMPAIGN}/{{campaign_id}}", f"{CAMPAIGN}/bad!id", None),
        ("GET", EVALUATION, f"{EVALUATION}?limit=0", None),
        ("GET", f"{EVALUATION}/{{evaluation_id}}", f"{EVALUATION}/bad!id", None),
    ],
    "start_capability_test": [("POST", CAMPAIGN, CAMPAIGN, MALFORMED)],
    "start_double_evaluation": [
        ("POST", EVALUATION, EVALUATION, MALFORMED),
        ("POST", f"{EVALUATION}/preview", f"{EVALUATION}/preview", MALFORMED),
    ],
    "record_retest": [
        (
            "POST",
            f"{CAMPAIGN}/{{campaign_id}}/{{person_id}}/retest",
            f"{CAMPAIGN}/K1/P1/retest",
            MALFORMED,
        )
    ],
    "record_handling": [
        (
            "POST",
            f"{CAMPAIGN}/{{campaign_id}}/{{person_id}}/handling",
            f"{CAMPAIGN}/K1/P1/handling",
            MALFORMED,
        )
    ],
    "record_removal_vote": [
        (
            "POST",
            f"{EVALUATION}/{{evaluation_id}}/{{person_id}}/vote",
            f"{EVALUATION}/E1/P1/vote",
            MALFORMED,
        )
    ],
}
BATCHES = "/register/rotation-batches"
REQUESTS["read_register"] += [
    ("GET", BATCHES, f"{BATCHES}?limit=0", None),
    ("GET", f"{BATCHES}/{{batch_id}}", f"{BATCHES}/bad!id", None),
]
REQUESTS |= {
    "make_rotation_batch": [("POST", BATCHES, BATCHES, MALFORMED)],
    **{
        action: [
            (
                "POST",
                f"{BATCHES}/{{batch_id}}/{{person_id}}/{slug}",
                f"{BATCHES}/B1/P1/{slug}",
                MALFORMED,
            )
        ]
        for action, slug in (
            ("record_rotation_document", "document"),
            ("record_rotation_arrival", "arrival"),
            ("cancel_rotation_move", "cancel"),
        )
    },
}
REQUESTS["withdraw"].append(
    ("POST", "/cases/{case_id}/withdraw", f"/cases/{CASE}/withdraw", MALFORMED)
)


def test_the_table_is_the_brief() -> None:
    assert {a: set(r) for a, r in ALLOWED.items()} == EXPECTED
    assert not any(Role.SYSTEM in roles for roles in ALLOWED.values())
    # auditors change nothing: every action open to them reads
    assert {a for a, roles in ALLOWED.items() if A in roles} == {
        "read_cases",
        "read_inbox",
        "mark_inbox_read",
        "read_audit",
        "export_audit",
        "export_audit_files",
        "verify_audit",
        "read_probations",
        "decode_payloads",
        "read_reports",
        "read_register",
        "read_cadre_work",
    }


def test_every_route_of_the_api_is_in_the_matrix() -> None:
    routes = {
        (method, route.path)
        for module in (
            cases,
            steps,
            reads,
            probation,
            audit,
            codec,
            informants,
            attachments,
            extension_requests,
            register,
            rotation_batch,
            cadre,
        )
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    walked = {(method, path) for requests in REQUESTS.values() for method, path, _, _ in requests}
    assert walked == routes
    assert set(REQUESTS) == set(EXPECTED)


async def test_every_role_against_every_action(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    wrong: list[str] = []
    checked = 0
    for action, allowed in EXPECTED.items():
        for method, _, url, body in REQUESTS[action]:
            for role in PERSON_ROLES:
                response = await offline_api.request(
                    method, url, json=body, headers=accounts[role].headers
                )
                expected = 422 if role in allowed else 403
                checked += 1
                if response.status_code != expected:
                    wrong.append(
                        f"{role.value} {action} {method} {url}: {response.status_code}, "
                        f"not {expected}"
                    )
                elif expected == 403:
                    sentence = refusal(action, role)
                    if response.json()["detail"] != sentence:
                        wrong.append(f"{role.value} {action}: {response.json()['detail']}")
    assert wrong == []
    assert checked == len(PERSON_ROLES) * sum(len(r) for r in REQUESTS.values())


def test_the_rules_that_narrow_the_table() -> None:
    # only an inspection-team member doing an inspection input must be on the case's team
    for action in EXPECTED:
        for role in PERSON_ROLES:
            assert must_be_on_team(action, role) == (action in TEAM_ACTIONS and role is T)
    assert TEAM_ACTIONS == {
        "record_inspection_check",
        "record_democratic_evaluation",
        "record_inspection_report",
    }
    # a message is marked read by its role, or by the head or an administrator; an auditor
    # reads every inbox but marks only its own role's messages
    for role in PERSON_ROLES:
        for recipient in PERSON_ROLES:
            assert may_mark_read(role, recipient.value) == (role is recipient or role in {H, M})


@pytest.mark.parametrize("role", PERSON_ROLES)
async def test_a_case_read_is_checked_before_its_id(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], role: Role
) -> None:
    response = await offline_api.get("/cases/bad!id", headers=accounts[role].headers)
    assert response.status_code == 422  # every role reads cases


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
    assert response.json()["code"] == "token_not_valid"
    assert "吊销" in response.json()["detail"]


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


async def test_the_openapi_document_describes_every_route(
    offline_api: httpx.AsyncClient,
) -> None:
    response = await offline_api.get("/openapi.json")
    assert response.status_code == 200
    paths, schemas = response.json()["paths"], response.json()["components"]["schemas"]
    for method, template, _, _ in (r for requests in REQUESTS.values() for r in requests):
        operation = paths[template][method.lower()]
        assert {"200", "401", "403", "422", "503"} <= set(operation["responses"]) | {"200"}
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:  # what the API fills in itself is never in a request
            properties = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]["properties"]
            assert not {"actor", "opened_by"} & set(properties), template
    # a malformed request's answer, as the app gives it, on every route but the cases'
    mine = {
        (method.lower(), route.path)
        for module in (steps, reads, probation, audit)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    for method, template in mine:
        malformed = paths[template][method]["responses"]["422"]["content"]["application/json"]
        assert malformed["schema"]["$ref"].endswith("/Malformed"), template
    dossier = paths["/audit/cases/{case_id}/dossier"]["get"]["responses"]["200"]
    assert set(dossier["content"]) == {
        "application/json",
        "text/csv; charset=utf-8",
        "text/html; charset=utf-8",
    }
    assert "Content-Disposition" in dossier["headers"]


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
    for url, role in (
        (f"/cases/{CASE}/steps/record_vote", V),
        ("/cases", C),
        (f"{PROBATION}/review", H),
        (f"{PROBATION}/end-early", H),
    ):
        headers = {**accounts[role].headers, "Content-Type": "application/json"}
        response = await offline_api.post(url, content=content, headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["detail"]


_CADRE = {"person_id": "K1", "name": "张三", "unit": "县财政局"}
_TALLY = {"voters": 10, "excellent": 5}
_LEADER = {**_CADRE, "post": "局长", "unified": _TALLY, "own": _TALLY}


@pytest.mark.parametrize(
    ("url", "body", "says"),
    [
        (
            CAMPAIGN,
            {
                "campaign_id": "K-1",
                "title": "能力测试",
                "tested_on": "2026-03-02",
                "notified_on": "2026-03-02",
                "results": [{**_CADRE, "score": "40"}, {**_CADRE, "score": "50"}],
            },
            "同一名干部在本次测试中有不止一个成绩：K1",
        ),
        (
            CAMPAIGN,
            {
                "campaign_id": "K-1",
                "title": "能力测试",
                "tested_on": "2026-03-02",
                "notified_on": "2026-03-01",
                "results": [{**_CADRE, "score": "40"}],
            },
            "成绩通知日期（2026-03-01）不能早于测试日期（2026-03-02）",
        ),
        *(
            (
                url,
                {
                    "evaluation_id": "E-1",
                    "title": "双重考核",
                    "held_on": "2026-03-02",
                    "leaders": [_LEADER, _LEADER],
                },
                "同一名干部有不止一组测评结果：K1",
            )
            for url in (EVALUATION, f"{EVALUATION}/preview")
        ),
    ],
    ids=["campaign-twice", "campaign-dates", "evaluation-twice", "preview-twice"],
)
async def test_what_only_the_whole_input_tells_is_a_422(
    offline_api: httpx.AsyncClient,
    accounts: dict[Role, Account],
    url: str,
    body: dict[str, object],
    says: str,
) -> None:
    """A body each of whose fields fits but which breaks a rule of the whole input (a cadre
    twice, dates out of order): 422 with the rule's sentence, before anything is started (the
    engine is out of reach here: a request that got that far would be a 503)."""
    response = await offline_api.post(url, json=body, headers=accounts[C].headers)
    assert response.status_code == 422, response.text
    assert [p["msg"] for p in response.json()["problems"]] == [says]


@pytest.mark.parametrize(
    "url",
    [
        "/probations?person=%00",
        "/probations?case=x%00y",
        "/probations/C-1/P%00",
        "/inbox?case=%00",
        "/inbox/99999999999999999999/read",
        "/inbox/0/read",
        "/audit/events?actor=%00",
        "/audit/events?after=%00",
        "/audit/events?after=not-a-cursor",
        "/audit/events?from=2026-09-02&to=2026-09-01",
        "/audit/events?from=2026-02-30",
        "/audit/events?page_size=1001",
        "/audit/cases/C-1/as-of/2026-13-01",
        "/audit/cases/C-1/as-of/0001-01-01",
        "/audit/cases/C-1/as-of/9999-12-31",
        "/audit/events?to=9999-12-31",
        "/audit/events?from=0001-01-01",
        "/audit/events?after=0001-01-01T00:00:00Z~1",
        "/audit/events?after=2026-01-01T00:00:00Z~99999999999999999999",
        "/probations?due_before=0001-01-01",
        "/audit/verify?case=%00",
        "/audit/verify?checkpoints=100001",
        "/audit/checkpoints?offset=-1",
    ],
)
async def test_no_query_or_path_is_a_500(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account], url: str
) -> None:
    """Text PostgreSQL cannot compare, numbers past its columns, days that are none: 422
    with a sentence, never a database error."""
    method = "POST" if url.endswith("/read") else "GET"
    response = await offline_api.request(method, url, headers=accounts[H].headers)
    assert response.status_code == 422, response.text
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
    report = {"person_id": "p1", "submitted_on": "2026-09-15", "summary": "德才表现良好"}
    review = {"outcome": "competent", "reviewed_on": "2026-09-15", "summary": "良好"}
    async with client_for(app) as http:
        responses = [
            await http.post("/cases", json=body, headers=clerk),
            await http.post("/cases/DEAD-1/steps/withdraw", json={"reason": "撤销"}, headers=clerk),
            await http.get("/cases/DEAD-1", headers=auditor),
            await http.post(
                "/cases/DEAD-1/steps/record_inspection_report",
                json=report,
                headers=accounts[T].headers,
            ),
            await http.get("/probations/DEAD-1/P1", headers=auditor),
            await http.post(
                "/probations/DEAD-1/P1/review", json=review, headers=accounts[H].headers
            ),
        ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "temporal_unreachable"
        assert response.json()["detail"].startswith(TEMPORAL_UNREACHABLE)
