"""One set of domain errors from the gateway; each front end maps every one of them."""

from __future__ import annotations

import pytest

from api.temporal import STATUS, api_error
from gateway import errors
from settings import load_settings
from starter.cli_base import EXIT_INPUT, EXIT_REFUSED, EXIT_UNREACHABLE, cli_error

KINDS = [
    kind
    for kind in vars(errors).values()
    if isinstance(kind, type)
    and issubclass(kind, errors.GatewayError)
    and kind is not errors.GatewayError
]

EXPECTED_HTTP = {
    errors.Refused: 409,
    errors.NotPermitted: 403,
    errors.NoSuchCase: 404,
    errors.CaseEnded: 409,
    errors.CaseExists: 409,
    errors.TooLarge: 413,
    errors.BadRequest: 422,
    errors.Unreachable: 503,
    errors.NoWorker: 503,
}
EXPECTED_EXIT = {
    errors.TooLarge: EXIT_INPUT,
    errors.Unreachable: EXIT_UNREACHABLE,
    errors.NoWorker: EXIT_UNREACHABLE,
}


def test_every_kind_has_an_http_status_and_an_exit_status() -> None:
    assert set(KINDS) == set(STATUS) == set(EXPECTED_HTTP)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_each_kind_keeps_its_sentence_at_every_door(kind: type[errors.GatewayError]) -> None:
    error = kind("the sentence for people")
    answer = api_error(error)
    assert answer.status == EXPECTED_HTTP[kind]
    assert "the sentence for people" in answer.detail
    cli = cli_error(error, load_settings({}))
    assert cli.exit_code == EXPECTED_EXIT.get(kind, EXIT_REFUSED)
    assert "the sentence for people" in cli.message


def test_a_refusal_keeps_its_rule() -> None:
    answer = api_error(errors.Refused("未达到法定到会人数", "vote.quorum"))
    assert (answer.status, answer.detail, answer.code) == (409, "未达到法定到会人数", "vote.quorum")
    assert (
        answer.rule
        == "《党政领导干部选拔任用工作条例》关于讨论决定的规定：应到会成员三分之二以上到会"
    )
    # a refusal from before the codes keeps its source as it came
    old = api_error(errors.Refused("quorum not met", "条例 quorum: two thirds of members"))
    assert (old.code, old.rule) == ("条例 quorum: two thirds of members",) * 2
