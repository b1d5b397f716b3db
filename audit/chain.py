"""The hash chains of the audit trail (哈希链): the one definition of an event's hash.

Two kinds of history are chained, each event in the chain of its own case or probation
(``Chain``): a case's events (``case_events``, keyed by ``case_id``) and a probation's
(``probation_events``, keyed by ``probation_id``, the probation workflow's id). The events of
one chain are numbered 1, 2, ... in the order they were written (``chain_index``), and each
carries the hash of the one before it (``prev_hash``; 64 zeros for the first) and its own::

    hash = sha256(prev_hash as ASCII hex || canonical JSON of the event, UTF-8), in hex

The canonical JSON is an object with exactly the keys of the event's fields (``ChainFields``
for a case's event: case_id, seq, chain_index, kind, stage, occurred_at, actor_name,
actor_role, summary, payload; ``ProbationChainFields`` for a probation's: probation_id, seq,
chain_index, kind, occurred_at, actor_name, actor_role, summary, payload), keys sorted at every
depth, no whitespace, non-ASCII characters written as themselves (not ``\\u`` escapes), and
``occurred_at`` written in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. The id's key (case_id or
probation_id) says which kind of chain an event belongs to, so an event of one kind can never
pass for one of the other. An auditor can recompute it in any language from an exported
dossier; ``audit verify-dossier`` does it in this one.

The recording activities (through ``audit.append``), the verifier, the exports and the
migrations that hashed the events written before the chains existed all use this module, so
there is one recipe only. ``canonical_json`` is that recipe as written; ``canonical_bytes`` spells
the same bytes faster (orjson), and says where it needs the recipe itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self, cast

import orjson

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

GENESIS = "0" * 64

HASH_RECIPE = (
    "hash = sha256(prev_hash as ASCII hex + canonical JSON of {case_id, seq, chain_index, kind, "
    "stage, occurred_at, actor_name, actor_role, summary, payload}: keys sorted at every depth, "
    'separators "," and ":", no whitespace, non-ASCII characters unescaped, UTF-8; occurred_at '
    "in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ); the first event of a case has prev_hash = 64 zeros"
)
PROBATION_HASH_RECIPE = (
    "a probation's event: the same, over the canonical JSON of {probation_id, seq, chain_index, "
    "kind, occurred_at, actor_name, actor_role, summary, payload}; the first event of a "
    "probation has prev_hash = 64 zeros"
)

# Keys of the payload whose values name people; "proposed" and "eligible" are lists of
# person ids (the inspection's conclusion, the eligibility check).
PERSON_KEY = "person_id"
PERSON_LIST_KEYS = frozenset({"proposed", "eligible"})


def canonical_json(value: Any) -> str:
    """JSON that two honest writers of the same value always spell the same way."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# orjson with sorted keys writes what ``canonical_json`` writes (same separators, non-ASCII as
# itself, the same escapes, keys in code-point order, floats in their shortest form), except:
# - a float between 1e-5 and 1e-4 in plain notation (0.00001 where json writes 1e-05), and an
#   exponent from -6 to -9 in one digit (1e-7 where json writes 1e-07): ``_FLOAT_SPELLING``
#   finds both in orjson's output, where a number starts (after ":", "," or "[") or ends (a
#   string may match too; then the recipe runs, to the same bytes);
# - NaN and ±Infinity written as null: only a value with a null is walked for them;
# - what orjson refuses (integers beyond 64 bits, keys that are not str, nesting deeper than
#   255, lone surrogates) and, by the passthrough options, what the recipe refuses or writes
#   its own way (datetimes, dataclasses, subclasses of str, int, dict, list): the recipe runs.
# What is hashed is always a JSON value (read back from jsonb, or parsed from an export), for
# which the two are byte-identical; tests/audit/test_canonical_bytes.py proves it on every
# saved chain and payload and by property over arbitrary JSON values.
_ORJSON_CANONICAL = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_FLOAT_SPELLING = re.compile(rb"(?:^|[:,\[])-?0\.0000|[0-9]e-[0-9](?![0-9])")


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False


def canonical_bytes(value: Any) -> bytes:
    """``canonical_json(value)`` in UTF-8, byte for byte, about ten times faster."""
    return _canonical_bytes(value, finite=False)


def _canonical_bytes(value: Any, *, finite: bool) -> bytes:
    """``canonical_bytes``; ``finite``: the value is known to hold no NaN or infinity (orjson
    read it), so a null in the spelling is a null."""
    try:
        spelled = orjson.dumps(value, option=_ORJSON_CANONICAL)
    except TypeError:  # orjson.JSONEncodeError is one
        return canonical_json(value).encode("utf-8")
    # (the substring tests first: they take a fraction of the pattern's time; ``find``, not
    # ``in``, which first tries the needle as an integer and clears the error it raises, three
    # times the cost per test here — the verifier makes four per event)
    if (
        (spelled.find(b"0.0000") >= 0 or spelled.find(b"e-") >= 0)
        and _FLOAT_SPELLING.search(spelled) is not None
    ) or (not finite and spelled.find(b"null") >= 0 and _has_non_finite(value)):
        return canonical_json(value).encode("utf-8")
    return spelled


def canonical_row(fields: dict[str, Any], payload_json: str) -> bytes:
    """``canonical_json({**fields, "payload": json.loads(payload_json)})`` in UTF-8, byte for
    byte: an event as the verifier reads its row, every field a str or an int (its columns, the
    instant already as ``iso_utc``) but the payload, as JSON text (jsonb's own spelling).
    ``fields`` gets the payload's key (a dict per row, made for this call)."""
    try:
        # orjson reads no NaN or infinity (it refuses them, and 1e400): every float is finite
        spelled = _canonical_bytes(orjson.loads(payload_json), finite=True)
    except orjson.JSONDecodeError:  # NaN, Infinity, 1e400, lone surrogates: json.loads decides
        spelled = canonical_bytes(json.loads(payload_json))
    if spelled.find(b"e+") >= 0:  # perhaps an integer beyond 64 bits, which orjson reads as a float
        spelled = canonical_bytes(json.loads(payload_json))  # (as loads_json does)
    # str and int are spelled alike by both, so only the payload needed checking
    fields["payload"] = orjson.Fragment(spelled)
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def loads_json(text: str) -> Any:
    """``json.loads(text)``, the same values, faster.

    orjson.loads reads what json.loads reads, to the same values, except an integer beyond 64
    bits, which it reads as a float; such a float (at least 2**63) is written with an exponent
    ("e+"), so a value whose spelling has one is read again by json.loads. Whatever orjson
    refuses (NaN, Infinity, 1e400, lone surrogates) goes there too, and json.loads decides.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    if orjson.dumps(value).find(b"e+") >= 0:
        return json.loads(text)
    return value


def iso_utc(at: datetime) -> str:
    """An instant as the chain writes it: UTC, microseconds, a trailing Z."""
    if at.tzinfo is UTC:  # as asyncpg reads every timestamptz: the same text, sooner
        return at.isoformat(timespec="microseconds")[:-6] + "Z"
    if at.tzinfo is None:
        raise ValueError("an instant in the audit trail needs its time zone")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_iso_utc(text: str) -> datetime:
    """The inverse of ``iso_utc``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class _EventFields:
    """What every kind of event does with its fields: spell them for the hash, read them back.

    The hash covers exactly the dataclass fields of the subclass: the event's content and its
    place in the chain. Not covered: the row's ``id`` and ``recorded_at`` (the database's own
    bookkeeping) and, of a case's event, ``person_ids`` (an index derived from the payload).
    """

    __slots__ = ()

    @property
    def chain_id(self) -> str:
        raise NotImplementedError

    def columns(self) -> dict[str, Any]:
        """The fields as they are, by name (the columns of the event's row)."""
        fields = dataclasses.fields(cast("DataclassInstance", self))
        return {f.name: getattr(self, f.name) for f in fields}

    def body(self) -> dict[str, Any]:
        """The object the canonical JSON spells: the fields, ``occurred_at`` as ``iso_utc``."""
        body = self.columns()
        body["occurred_at"] = iso_utc(body["occurred_at"])
        return body

    def canonical(self) -> bytes:
        return canonical_bytes(self.body())

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        """The inverse of ``body``; KeyError, TypeError or ValueError if it is not one."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cast("type[DataclassInstance]", cls)):
            raw = body[f.name]
            if f.name in ("seq", "chain_index"):
                values[f.name] = int(raw)
            elif f.name == "occurred_at":
                values[f.name] = parse_iso_utc(str(raw))
            elif f.name == "payload":
                if not isinstance(raw, dict):
                    raise ValueError("payload is not an object")
                values[f.name] = raw
            else:
                values[f.name] = str(raw)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ChainFields(_EventFields):
    """What the hash of a case's event covers: everything it says, and its place in the chain."""

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

    @property
    def chain_id(self) -> str:
        return self.case_id


@dataclass(frozen=True, slots=True)
class ProbationChainFields(_EventFields):
    """What the hash of a probation's event covers: as for a case's, without a stage."""

    probation_id: str
    seq: int
    chain_index: int
    kind: str
    occurred_at: datetime
    actor_name: str
    actor_role: str
    summary: str
    payload: dict[str, Any]

    @property
    def chain_id(self) -> str:
        return self.probation_id


EventFields = ChainFields | ProbationChainFields


@dataclass(frozen=True, slots=True)
class Chain:
    """A kind of hash chain: whose histories, in which table, under which id."""

    name: str  # "case" or "probation": the domain of its Merkle leaves
    table: str
    id_key: str  # the column, and the key of the canonical JSON, that names the chain
    fields: type[ChainFields] | type[ProbationChainFields]

    @property
    def word(self) -> str:
        """What the chain's histories are called in a message: 案件 or 试用期."""
        return CHAIN_WORDS.get(self.name, self.name)

    def field_names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.fields)]

    def fields_of(self, source: Any, **given: Any) -> EventFields:
        """The fields of an event of this chain, read by name from ``source`` (a mapping, such
        as a row, or an object with those attributes, such as an ORM row); ``given`` wins."""
        if isinstance(source, Mapping):
            values = {n: given[n] if n in given else source[n] for n in self.field_names()}
        else:
            values = {n: given[n] if n in given else getattr(source, n) for n in self.field_names()}
        return self.fields(**values)


CHAIN_WORDS = {"case": "案件", "probation": "试用期"}
CASE_CHAIN = Chain("case", "case_events", "case_id", ChainFields)
PROBATION_CHAIN = Chain("probation", "probation_events", "probation_id", ProbationChainFields)
CHAINS = (CASE_CHAIN, PROBATION_CHAIN)


def event_hash(prev_hash: str, fields: EventFields) -> str:
    return body_hash(prev_hash, fields.body())


def body_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """The hash of an event given as the object its canonical JSON spells (``body()``); the
    verifier builds that object straight from a row."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_bytes(body))
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

    chain_id: str  # the case's or the probation's id
    chain_index: int
    seq: int | None
    kind: str  # "edited", "missing", "broken_link", "bad_genesis"
    message: str


@dataclass(frozen=True, slots=True)
class ChainLink:
    """An event as the verifier reads it: what its hash covers and what the row claims."""

    fields: EventFields
    prev_hash: str
    hash: str


class ChainChecker:
    """Checks one chain (a case's or a probation's), an event at a time, in chain order.

    Each tamper is reported once, where it shows first: an edited event by its own hash, a
    removed one by the gap in the numbering, a replaced or inserted one by the broken link of
    the event after it. Checking goes on after a fault, from the event as it stands, so a
    second tamper further on is reported too.
    """

    def __init__(self, chain_id: str, chain: Chain = CASE_CHAIN) -> None:
        self.chain_id = chain_id
        self.chain = chain
        self.expected_index = 1
        self.last_hash = GENESIS
        self.last_seq: int | None = None
        self.faults: list[ChainFault] = []
        self.count = 0

    def _fault(self, chain_index: int, seq: int | None, kind: str, says: str) -> ChainFault:
        return ChainFault(
            self.chain_id, chain_index, seq, kind, f"{self.chain.word} {self.chain_id}：{says}"
        )

    def check(self, link: ChainLink) -> None:
        f = link.fields
        self.check_event(
            f.chain_index, f.seq, f.kind, link.prev_hash, link.hash, event_hash(link.prev_hash, f)
        )

    def check_event(
        self, chain_index: int, seq: int, kind: str, prev_hash: str, stored: str, computed: str
    ) -> None:
        """The next event as the chain has it: its place, its kind, the hash it links to, the
        hash the row claims and the hash its content gives (``body_hash``)."""
        self.count += 1
        if (
            chain_index == self.expected_index
            and prev_hash == self.last_hash
            and computed == stored
        ):
            self.expected_index, self.last_hash, self.last_seq = chain_index + 1, stored, seq
            return  # nothing wrong: what the rest of this method would conclude, sooner
        fault = None
        if chain_index > self.expected_index:
            first, last = self.expected_index, chain_index - 1
            gone = f"第 {first} 条" if first == last else f"第 {first} 至 {last} 条"
            fault = self._fault(
                first,
                None,
                "missing",
                f"链上{gone}记录被删除（链从第 {first - 1} 条跳到第 {chain_index} 条，序号 {seq}）",
            )
        elif chain_index < self.expected_index:
            fault = self._fault(
                chain_index,
                seq,
                "broken_link",
                f"链上位置 {chain_index}（序号 {seq}）出现了两次",
            )
        elif prev_hash != self.last_hash:
            if chain_index == 1:
                fault = self._fault(
                    1,
                    seq,
                    "bad_genesis",
                    f"第一条记录（序号 {seq}）不是链的起点（其 prev_hash 不是 64 个 0）",
                )
            else:
                fault = self._fault(
                    chain_index,
                    seq,
                    "broken_link",
                    f"第 {chain_index} 条记录（序号 {seq}）接不上第 {chain_index - 1} 条"
                    f"（序号 {self.last_seq}）：那条记录被替换或改写，或两者之间插入、删除了记录",
                )
        if computed != stored:
            if fault is None:
                fault = self._fault(
                    chain_index,
                    seq,
                    "edited",
                    f"第 {chain_index} 条记录（序号 {seq}，{kind}）与其哈希值不符："
                    "内容或其在链上的位置被改动过",
                )
            else:  # one fault per event: the first thing wrong, and that this is wrong too
                fault = dataclasses.replace(
                    fault, message=fault.message + "；它与自身的哈希值也不符"
                )
        if fault is not None:
            self.faults.append(fault)
        self.expected_index = max(self.expected_index, chain_index + 1)
        self.last_hash = stored
        self.last_seq = seq


def check_chain(
    chain_id: str, links: Iterable[ChainLink], chain: Chain = CASE_CHAIN
) -> ChainChecker:
    """A whole chain checked; its ``faults`` say what is wrong, first first."""
    checker = ChainChecker(chain_id, chain)
    for link in links:
        checker.check(link)
    return checker


def link_chain(
    rows: Iterable[Mapping[Any, Any]], chain: Chain
) -> Iterable[tuple[Mapping[Any, Any], EventFields, str, str]]:
    """Hash rows written before their chain existed: ``(row, fields, prev_hash, hash)`` each.

    ``rows`` are the events' columns, sorted by chain id and then in the order the chain
    takes them; each chain is numbered from 1. For the migrations that add a chain.
    """
    chain_id, index, prev = None, 0, GENESIS
    for row in rows:
        if row[chain.id_key] != chain_id:
            chain_id, index, prev = row[chain.id_key], 0, GENESIS
        index += 1
        fields = chain.fields_of(row, chain_index=index)
        digest = event_hash(prev, fields)
        yield row, fields, prev, digest
        prev = digest
