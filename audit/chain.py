"""The hash chain of a case's events (哈希链): the one definition of an event's hash.

Each case's events are numbered 1, 2, ... in the order they were written (``chain_index``),
and each carries the hash of the one before it (``prev_hash``; 64 zeros for the first) and its
own hash::

    hash = sha256(prev_hash as ASCII hex || canonical JSON of the event, UTF-8), in hex

The canonical JSON is an object with exactly the keys of ``ChainFields`` (case_id, seq,
chain_index, kind, stage, occurred_at, actor_name, actor_role, summary, payload), keys sorted
at every depth, no whitespace, non-ASCII characters written as themselves (not ``\\u`` escapes),
and ``occurred_at`` written in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. An auditor can recompute
it in any language from an exported dossier; ``audit verify-dossier`` does it in this one.

The recording activity, the verifier, the exports and the migration that hashed the events
written before the chain existed all use this module, so there is one recipe only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

HASH_RECIPE = (
    "hash = sha256(prev_hash as ASCII hex + canonical JSON of {case_id, seq, chain_index, kind, "
    "stage, occurred_at, actor_name, actor_role, summary, payload}: keys sorted at every depth, "
    'separators "," and ":", no whitespace, non-ASCII characters unescaped, UTF-8; occurred_at '
    "in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ); the first event of a case has prev_hash = 64 zeros"
)

# Keys of the payload whose values name people; "proposed" and "eligible" are lists of
# person ids (the inspection's conclusion, the eligibility check).
PERSON_KEY = "person_id"
PERSON_LIST_KEYS = frozenset({"proposed", "eligible"})


def canonical_json(value: Any) -> str:
    """JSON that two honest writers of the same value always spell the same way."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def iso_utc(at: datetime) -> str:
    """An instant as the chain writes it: UTC, microseconds, a trailing Z."""
    if at.tzinfo is None:
        raise ValueError("an instant in the audit trail needs its time zone")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_iso_utc(text: str) -> datetime:
    """The inverse of ``iso_utc``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ChainFields:
    """What an event's hash covers: everything the event says, and its place in the chain.

    Not covered: the row's ``id`` and ``recorded_at`` (the database's own bookkeeping) and
    ``person_ids`` (an index derived from the payload).
    """

    case_id: str
    seq: int
    chain_index: int
    kind: str
    stage: str
    occurred_at: datetime
    actor_name: str
    actor_role: str
    summary: str
    payload: dict[str, Any]

    def canonical(self) -> bytes:
        return canonical_json(
            {
                "case_id": self.case_id,
                "seq": self.seq,
                "chain_index": self.chain_index,
                "kind": self.kind,
                "stage": self.stage,
                "occurred_at": iso_utc(self.occurred_at),
                "actor_name": self.actor_name,
                "actor_role": self.actor_role,
                "summary": self.summary,
                "payload": self.payload,
            }
        ).encode("utf-8")


def event_hash(prev_hash: str, fields: ChainFields) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(fields.canonical())
    return digest.hexdigest()


def person_ids(payload: Any) -> list[str]:
    """Every person id named anywhere in a payload, sorted, each once.

    Persons appear at different depths: ``person_id`` of an input, of each score or vote item,
    of each candidate of the opened case; and in the lists ``proposed`` and ``eligible``.
    """
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == PERSON_KEY and isinstance(value, str | int) and value != "":
                    found.add(str(value))
                elif key in PERSON_LIST_KEYS and isinstance(value, list):
                    found.update(str(v) for v in value if isinstance(v, str | int) and v != "")
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload)
    return sorted(found)


@dataclass(frozen=True, slots=True)
class ChainFault:
    """The first thing wrong with one event of a chain, as a sentence an auditor can act on."""

    case_id: str
    chain_index: int
    seq: int | None
    kind: str  # "edited", "missing", "broken_link", "bad_genesis"
    message: str


@dataclass(frozen=True, slots=True)
class ChainLink:
    """An event as the verifier reads it: what its hash covers and what the row claims."""

    fields: ChainFields
    prev_hash: str
    hash: str


class ChainChecker:
    """Checks one case's chain, an event at a time, in chain order.

    Each tamper is reported once, where it shows first: an edited event by its own hash, a
    removed one by the gap in the numbering, a replaced or inserted one by the broken link of
    the event after it. Checking goes on after a fault, from the event as it stands, so a
    second tamper further on is reported too.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.expected_index = 1
        self.last_hash = GENESIS
        self.last_seq: int | None = None
        self.faults: list[ChainFault] = []
        self.count = 0

    def check(self, link: ChainLink) -> None:
        f = link.fields
        self.count += 1
        fault = None
        if f.chain_index > self.expected_index:
            first, last = self.expected_index, f.chain_index - 1
            gone = f"event {first}" if first == last else f"events {first} to {last}"
            fault = ChainFault(
                self.case_id,
                first,
                None,
                "missing",
                f"case {self.case_id}: {gone} of the chain removed (the chain jumps from "
                f"{first - 1} to {f.chain_index}, seq {f.seq})",
            )
        elif f.chain_index < self.expected_index:
            fault = ChainFault(
                self.case_id,
                f.chain_index,
                f.seq,
                "broken_link",
                f"case {self.case_id}: chain index {f.chain_index} (seq {f.seq}) appears twice",
            )
        elif link.prev_hash != self.last_hash:
            if f.chain_index == 1:
                fault = ChainFault(
                    self.case_id,
                    1,
                    f.seq,
                    "bad_genesis",
                    f"case {self.case_id}: the first event (seq {f.seq}) does not start the "
                    "chain (its prev_hash is not 64 zeros)",
                )
            else:
                fault = ChainFault(
                    self.case_id,
                    f.chain_index,
                    f.seq,
                    "broken_link",
                    f"case {self.case_id}: event {f.chain_index} (seq {f.seq}) does not link to "
                    f"event {f.chain_index - 1} (seq {self.last_seq}): that event was replaced "
                    "or rewritten, or an event was inserted or removed between them",
                )
        if event_hash(link.prev_hash, f) != link.hash:
            if fault is None:
                fault = ChainFault(
                    self.case_id,
                    f.chain_index,
                    f.seq,
                    "edited",
                    f"case {self.case_id}: event {f.chain_index} (seq {f.seq}, {f.kind}) does "
                    "not match its hash: its content or its place in the chain was changed",
                )
            else:  # one fault per event: the first thing wrong, and that this is wrong too
                fault = dataclasses.replace(
                    fault, message=fault.message + "; it does not match its own hash either"
                )
        if fault is not None:
            self.faults.append(fault)
        self.expected_index = max(self.expected_index, f.chain_index + 1)
        self.last_hash = link.hash
        self.last_seq = f.seq


def check_chain(case_id: str, links: Iterable[ChainLink]) -> ChainChecker:
    """A whole chain checked; its ``faults`` say what is wrong, first first."""
    checker = ChainChecker(case_id)
    for link in links:
        checker.check(link)
    return checker
