"""What only the whole case file can tell (a kinship naming a person who is not among its
candidates) is refused as a malformed body, 422 in Chinese, before anything is started; never
a server error."""

from __future__ import annotations

from tests.api.conftest import LogApi, log_api  # noqa: F401
from tests.workflows.scenarios import regular_case
from workflows.types import Role


async def test_a_kinship_of_no_candidate_is_a_malformed_body(log_api: LogApi) -> None:  # noqa: F811
    case = regular_case("WHOLE-1").model_dump(mode="json", exclude={"opened_by"})
    case["relationships"] = [
        {"person_id": "nobody", "related_name": "周干事", "relation": "spouse"}
    ]
    response = await log_api.http.post(
        "/cases", json=case, headers=log_api.accounts[Role.CLERK].headers
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert "申报的亲属关系涉及的人员不是本案件的人选：nobody" in problem["msg"]
