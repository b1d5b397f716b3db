"""A candidate named by the register takes the register's id as its person id when it gives
none; an empty person id is a malformed one, refused, never quietly replaced."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.workflows.scenarios import regular_case
from workflows.types import Candidate


def _candidate(**changes: object) -> dict[str, object]:
    [first, *_] = regular_case("any").candidates
    return {**first.model_dump(), **changes}


def test_a_register_candidate_without_a_person_id_takes_the_registers() -> None:
    data = _candidate(register_id="R100")
    del data["person_id"]
    assert Candidate.model_validate(data).person_id == "R100"
    assert Candidate.model_validate({**data, "person_id": None}).person_id == "R100"


def test_an_empty_person_id_is_refused_even_with_a_register_id() -> None:
    with pytest.raises(ValidationError) as refused:
        Candidate.model_validate(_candidate(register_id="R100", person_id=""))
    assert [e["loc"] for e in refused.value.errors()] == [("person_id",)]
