"""The recipes an auditor re-implements: the event hash, the Merkle tree, the signed
statement, written out here independently of the code under test."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit.chain import (
    GENESIS,
    ChainFields,
    ChainLink,
    canonical_json,
    check_chain,
    event_hash,
    iso_utc,
    person_ids,
)
from audit.checkpoints import statement
from audit.merkle import inclusion_proof, merkle_root, root_from_proof

BEIJING = timezone(timedelta(hours=8))


def fields(index: int, summary: str = "立案", seq: int | None = None) -> ChainFields:
    return ChainFields(
        case_id="C-1",
        seq=seq or index,
        chain_index=index,
        kind="input",
        stage="inspection",
        occurred_at=datetime(2026, 9, 1, 9, 30, 0, 123456, tzinfo=BEIJING),
        actor_name="王芳",
        actor_role="clerk",
        summary=summary,
        payload={"z": [1, 2.5], "a": {"person_id": "p1", "名": "张三"}},
    )


def test_the_event_hash_is_the_documented_recipe() -> None:
    canonical = (
        '{"actor_name":"王芳","actor_role":"clerk","case_id":"C-1","chain_index":1,'
        '"kind":"input","occurred_at":"2026-09-01T01:30:00.123456Z",'
        '"payload":{"a":{"person_id":"p1","名":"张三"},"z":[1,2.5]},"seq":1,'
        '"stage":"inspection","summary":"立案"}'
    )
    expected = hashlib.sha256(("0" * 64 + canonical).encode("utf-8")).hexdigest()
    assert fields(1).canonical() == canonical.encode("utf-8")
    assert event_hash(GENESIS, fields(1)) == expected


def test_canonical_json_and_instants() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'
    assert iso_utc(datetime(2026, 1, 1, tzinfo=BEIJING)) == "2025-12-31T16:00:00.000000Z"
    with pytest.raises(ValueError, match="time zone"):
        iso_utc(datetime(2026, 1, 1))


def test_person_ids_are_found_at_any_depth() -> None:
    payload = {
        "person_id": "p1",
        "case": {"candidates": [{"person_id": "p2"}, {"person_id": "p3"}]},
        "items": [{"person_id": "p1", "agree": 8}],
        "proposed": ["p4"],
        "eligible": ["p5", "p2"],
        "note": {"person_id": ""},
    }
    assert person_ids(payload) == ["p1", "p2", "p3", "p4", "p5"]
    assert person_ids({}) == []


def chain(*summaries: str) -> list[ChainLink]:
    links, prev = [], GENESIS
    for index, summary in enumerate(summaries, 1):
        digest = event_hash(prev, fields(index, summary))
        links.append(ChainLink(fields(index, summary), prev, digest))
        prev = digest
    return links


def test_the_checker_names_each_tamper_once() -> None:
    good = chain("一", "二", "三", "四")
    assert check_chain("C-1", good).faults == []

    edited = [*good[:2], ChainLink(fields(3, "改"), good[2].prev_hash, good[2].hash), good[3]]
    assert [(f.kind, f.chain_index) for f in check_chain("C-1", edited).faults] == [("edited", 3)]

    removed = [good[0], good[1], good[3]]
    assert [(f.kind, f.chain_index) for f in check_chain("C-1", removed).faults] == [("missing", 3)]

    forged_first = ChainLink(fields(1), "f" * 64, event_hash("f" * 64, fields(1)))
    assert [f.kind for f in check_chain("C-1", [forged_first]).faults] == ["bad_genesis"]

    # event 3 replaced by another well-formed event: the link from 4 breaks
    other = ChainLink(fields(3, "替"), good[1].hash, event_hash(good[1].hash, fields(3, "替")))
    replaced = [good[0], good[1], other, good[3]]
    assert [(f.kind, f.chain_index) for f in check_chain("C-1", replaced).faults] == [
        ("broken_link", 4)
    ]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_the_merkle_root_is_the_documented_recipe() -> None:
    heads = {"b": (2, "22"), "a": (1, "11"), "c": (3, "33")}
    a, b, c = (sha(f"{k}:{i}:{h}".encode()) for k, (i, h) in sorted(heads.items()))
    # three leaves: (a, b) pair up, c is promoted, then the two are joined
    assert merkle_root(heads) == sha(sha(a + b) + c).hex()
    assert merkle_root({"a": (1, "11")}) == a.hex()
    assert merkle_root({}) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("size", range(1, 12))
def test_every_inclusion_proof_leads_to_the_root(size: int) -> None:
    heads = {f"case-{n:02}": (n + 1, f"{n:064x}") for n in range(size)}
    root = merkle_root(heads)
    for case_id, (index, digest) in heads.items():
        proof = inclusion_proof(heads, case_id)
        assert root_from_proof(case_id, index, digest, proof) == root
        assert root_from_proof(case_id, index + 1, digest, proof) != root


def test_the_signed_statement_is_the_documented_recipe() -> None:
    at = datetime(2026, 9, 1, 1, 2, 3, tzinfo=UTC)
    assert statement(at, 42, "k1", "ab", version=1) == (
        b"cadre-appointments audit checkpoint v1\n"
        b'{"created_at":"2026-09-01T01:02:03.000000Z","event_count":42,"key_id":"k1",'
        b'"merkle_root":"ab"}'
    )
