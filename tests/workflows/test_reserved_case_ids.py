"""A case cannot take the id of an audit chain of another kind: the cadre register's chain
(``cadre-register``) shares the log's case chains, so a case of that id would write into it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.workflows.scenarios import regular_case
from workflows.ids import REGISTER_CHAIN_ID
from workflows.types import CaseInput


def test_the_registers_chain_id_is_refused_as_a_case_id() -> None:
    case = regular_case("any").model_dump()
    with pytest.raises(ValidationError) as refused:
        CaseInput.model_validate({**case, "case_id": REGISTER_CHAIN_ID})
    [problem] = refused.value.errors()
    assert problem["type"] == "reserved_case_id"
    assert problem["msg"] == f"案件编号 {REGISTER_CHAIN_ID} 已用作另一类审计链的编号，请另选一个"


@pytest.mark.parametrize("case_id", ["cadre-register-2", "GY-2026-021", "register"])
def test_ids_of_appointment_cases_pass(case_id: str) -> None:
    case = regular_case("any").model_dump()
    assert CaseInput.model_validate({**case, "case_id": case_id}).case_id == case_id
