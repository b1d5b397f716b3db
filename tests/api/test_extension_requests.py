"""Extension requests (延期申请) at the API's door: who asked is the service's word, never the
body's; an approval's requester and request id cannot be sent by a caller, and a request for
more days than the policy allows is refused in Chinese before anything is written."""

from __future__ import annotations

import httpx

from tests.api.conftest import Account
from workflows.types import Role

CASE = "EXT-API-1"


async def test_an_extension_cannot_name_its_requester_or_request(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    body = {
        "step": "investigation_notice",
        "working_days": 3,
        "reason": "等待上级答复",
        "decided_on": "2026-12-01",
    }
    chief = accounts[Role.SECTION_CHIEF].headers
    for forged in ({"requested_by": "王科员"}, {"request_id": 1}):
        response = await offline_api.post(
            f"/cases/{CASE}/steps/extend_deadline", json={**body, **forged}, headers=chief
        )
        assert response.status_code == 422, response.text
        assert response.json()["problems"], response.text


async def test_a_request_is_refused_for_its_shape_before_the_case_is_asked(
    offline_api: httpx.AsyncClient, accounts: dict[Role, Account]
) -> None:
    clerk = accounts[Role.CLERK].headers
    for bad in (
        {"step": "investigation_notice", "working_days": 0, "reason": "等待上级答复"},
        {"step": "investigation_notice", "working_days": 3, "reason": ""},
        {"step": "investigation_notice", "working_days": 3, "reason": "x", "requested_by": "我"},
    ):
        response = await offline_api.post(
            f"/cases/{CASE}/extension-requests", json=bad, headers=clerk
        )
        assert response.status_code == 422, response.text
    listed = await offline_api.get(f"/cases/{CASE}/extension-requests", headers=clerk)
    assert listed.status_code == 200 and listed.json() == []
