"""The fast canonical JSON (orjson) is byte for byte the recipe's (json.dumps): on every chain
and every recorded payload saved in the repository, and by property over arbitrary JSON values;
the fast reader gives json.loads's values; PostgreSQL's spelling of an instant is iso_utc's."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.chain import (
    CASE_CHAIN,
    GENESIS,
    PROBATION_CHAIN,
    canonical_bytes,
    canonical_json,
    canonical_row,
    event_hash,
    iso_utc,
    loads_json,
)
from audit.chain_scan import ISO_UTC_OF
from store.db import to_libpq_url

ROOT = Path(__file__).resolve().parents[2]
DOSSIERS = sorted((ROOT / "tests" / "audit" / "fixtures").glob("dossier_v*.json"))
HISTORIES = sorted((ROOT / "tests" / "histories").glob("*.json"))


def recipe(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def same_json(a: Any, b: Any) -> bool:
    """Equal values of equal types at every depth (1 and 1.0 differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def walk(value: Any) -> list[Any]:
    """The value and every value inside it."""
    found = [value]
    if isinstance(value, dict):
        for item in value.values():
            found += walk(item)
    elif isinstance(value, list):
        for item in value:
            found += walk(item)
    return found


# --------------------------------------------------------------------------- saved chains


def test_every_saved_chain_hashes_the_same_and_matches_its_stored_hashes() -> None:
    checked = 0
    for path in DOSSIERS:
        dossier = json.loads(path.read_text(encoding="utf-8"))
        chains = [(CASE_CHAIN, dossier["events"])] + [
            (PROBATION_CHAIN, p["events"]) for p in dossier.get("probations", [])
        ]
        for chain, events in chains:
            prev = GENESIS
            for event in events:
                fields = chain.fields.from_body(event)
                assert fields.canonical() == recipe(fields.body()), (path.name, event["seq"])
                # the payload spelled as jsonb would, through the verifier's reader
                text = json.dumps(event["payload"], ensure_ascii=False, separators=(", ", ": "))
                row = {k: v for k, v in fields.body().items() if k != "payload"}
                assert canonical_row(row, text) == recipe(fields.body())
                assert event_hash(event["prev_hash"], fields) == event["hash"]
                assert event["prev_hash"] == prev
                prev = event["hash"]
                checked += 1
    assert checked >= 3 * 8  # every dossier's case at least


def _recorded_payloads(history: dict[str, Any]) -> list[Any]:
    """Every input the recording activities were given in a saved workflow history."""
    found = []
    for event in history["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled is None:
            continue
        for payload in scheduled.get("input", {}).get("payloads", []):
            data = payload.get("data")
            if data:
                found.append(json.loads(base64.b64decode(data)))
    return found


def test_every_saved_activity_input_spells_the_same_at_every_depth() -> None:
    values = 0
    payloads = 0
    for path in HISTORIES:
        for argument in _recorded_payloads(json.loads(path.read_text(encoding="utf-8"))):
            for value in walk(argument):
                assert canonical_bytes(value) == recipe(value)
                values += 1
            events = argument.get("events", [argument]) if isinstance(argument, dict) else []
            for event in events:
                if isinstance(event, dict) and isinstance(event.get("payload"), dict):
                    payloads += 1
    assert values > 10_000 and payloads > 100


# --------------------------------------------------------------------------- by property

_FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
_DECADES = st.builds(
    lambda m, e, s: s * float(f"{m}e{e}"),
    st.floats(min_value=1.0, max_value=9.999999),
    st.integers(min_value=-330, max_value=310),
    st.sampled_from([1.0, -1.0]),
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.integers(min_value=-(2**64), max_value=2**64)
    | _FLOATS
    | _DECADES
    | st.text()
    | st.text(alphabet=st.characters(max_codepoint=0x7F))  # control characters, escapes
)
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_canonical_bytes_is_the_recipe_for_any_json_value(value: Any) -> None:
    assert canonical_bytes(value) == recipe(value)


@settings(max_examples=3000)
@given(st.lists(_FLOATS | _DECADES, min_size=1, max_size=8))
def test_every_float_is_spelled_as_python_spells_it(values: list[float]) -> None:
    assert canonical_bytes(values) == recipe(values)
    assert canonical_bytes({"x": values[0]}) == recipe({"x": values[0]})


def test_floats_of_every_decade_and_the_edges() -> None:
    values = [float(f"{m}e{e}") for e in range(-330, 310) for m in (1.0, 1.5, 9.87654321)]
    values += [0.0, -0.0, 5e-324, 1.7976931348623157e308, 2.0**63, 2.0**64, 1e16, 1e-5, 1e-4]
    values += [math.inf, -math.inf, math.nan]
    for value in values:
        wrapped: Any
        for wrapped in (value, [value], {"v": value}, {"a": [1, {"b": value}]}):
            assert canonical_bytes(wrapped) == recipe(wrapped), value


def test_what_the_recipe_refuses_or_writes_its_own_way_takes_the_recipe() -> None:
    value: Any
    for value in (
        2**64,
        -(2**63) - 1,
        10**400,
        {1: "int key"},
        [[]] * 3,
    ):
        assert canonical_bytes(value) == recipe(value)
    nested: Any = []
    for _ in range(300):  # deeper than orjson goes
        nested = [nested]
    assert canonical_bytes(nested) == recipe(nested)
    for refused in ({"a": datetime.now(UTC)}, "\ud800", {"\udc00": 1}):
        with pytest.raises((TypeError, UnicodeEncodeError)) as old:
            recipe(refused)
        with pytest.raises(old.type):
            canonical_bytes(refused)


@settings(max_examples=2000)
@given(JSON)
def test_the_fast_reader_reads_what_json_loads_reads(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert same_json(loads_json(text), json.loads(text))


@settings(max_examples=2000)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_numbers_as_postgresql_prints_them_are_read_alike(number: Any) -> None:
    text = f'{{"n": {number:f}, "e": [{number:f}]}}'
    assert same_json(loads_json(text), json.loads(text))


@settings(max_examples=2000)
@given(
    st.dictionaries(
        st.sampled_from(["case_id", "kind", "summary", "actor_name"]), st.text(), min_size=1
    ),
    st.integers(min_value=1, max_value=2**31 - 1),
    JSON,
)
def test_a_row_spells_as_its_body(fields: dict[str, Any], seq: int, payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False)
    row = {**fields, "seq": seq, "chain_index": seq}
    assert canonical_row(dict(row), text) == recipe({**row, "payload": json.loads(text)})


# --------------------------------------------------------------------------- instants


@settings(max_examples=500)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_iso_utc_is_the_same_for_any_zone(at: datetime, minutes: int) -> None:
    zoned = at.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    as_utc = zoned.astimezone(UTC)
    assert iso_utc(zoned) == iso_utc(as_utc)
    assert iso_utc(as_utc) == as_utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


async def test_postgresql_spells_an_instant_as_iso_utc(migrated_database_url: str) -> None:
    instants = [
        datetime.min.replace(tzinfo=UTC),  # asyncpg writes -infinity
        datetime.max.replace(tzinfo=UTC),  # and infinity
        datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 9, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 9, 1, 1, 30, 0, 7, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ] + [
        datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=977.123457 * 7919 * n)
        for n in range(200)
    ]
    conn = await asyncpg.connect(to_libpq_url(migrated_database_url))
    try:
        spelled = await conn.fetch(
            f"SELECT {ISO_UTC_OF.format('t')} FROM unnest($1::timestamptz[]) AS t",
            instants,
        )
    finally:
        await conn.close()
    assert [row[0] for row in spelled] == [iso_utc(at) for at in instants]
