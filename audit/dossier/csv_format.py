"""The CSV dossier: one row per event, the case's and then each probation's, with the
checkpoint on the rows of the heads it signed; and the dossier read back from its rows."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from audit.chain import CASE_CHAIN, PROBATION_CHAIN, Chain, canonical_json
from audit.dossier.coverage import covered_through, probation_covered_through
from audit.dossier.events import derived_sections, event_from_json
from audit.dossier.spec import DOSSIER_FORMAT, DOSSIER_FORMAT_V1, DossierError

CSV_COLUMNS = (
    "case_id",
    "chain_index",
    "seq",
    "kind",
    "stage",
    "occurred_at",
    "actor_name",
    "actor_role",
    "summary",
    "payload",
    "prev_hash",
    "hash",
    "id",
    "recorded_at",
    # derived from the payload, for reading in a spreadsheet
    "policy_version",
    "deadline_on",
    "calendar_source",
    # on the row the checkpoint's head points at
    "checkpoint_id",
    "checkpoint_created_at",
    "merkle_root",
    "checkpoint_event_count",
    "key_id",
    "signature",
    "merkle_proof",
)


# Format v2: each probation event's row names its probation; the checkpoint stands on every
# row that is the head of a chain it signed, with that head's proof.
CSV_COLUMNS_V2 = tuple(
    name
    for column in CSV_COLUMNS
    for name in (
        (column, "probation_id")
        if column == "case_id"
        else (column, "checkpoint_version")
        if column == "checkpoint_id"
        else (column,)
    )
)
_CHECKPOINT_COLUMNS = {
    "checkpoint_id": "id",
    "checkpoint_version": "version",
    "checkpoint_created_at": "created_at",
    "merkle_root": "merkle_root",
    "checkpoint_event_count": "event_count",
    "key_id": "key_id",
    "signature": "signature",
}


def _csv_row(
    case_id: str, e: dict[str, Any], probation_id: str, cp: dict[str, Any], proof: Any
) -> dict[str, Any]:
    """An event's row by column; ``proof`` is None but on the row of a head the checkpoint
    signed."""
    p = e["payload"]
    case_event = not probation_id
    row = {
        "case_id": case_id,
        "probation_id": probation_id,
        **{k: e[k] for k in ("chain_index", "seq", "kind")},
        "stage": e["stage"] if case_event else "",
        **{k: e[k] for k in ("occurred_at", "actor_name", "actor_role", "summary")},
        "payload": canonical_json(p),
        **{k: e[k] for k in ("prev_hash", "hash", "id", "recorded_at")},
        "policy_version": p.get("policy_version", "")
        if case_event and e["kind"] == "opened"
        else "",
        "deadline_on": p.get("deadline_on", "") if case_event and e["kind"] == "deadline" else "",
        "calendar_source": (
            p.get("calendar_source", "") if case_event and e["kind"] == "deadline" else ""
        ),
    }
    for column, key in _CHECKPOINT_COLUMNS.items():
        row[column] = "" if proof is None else cp.get(key, 1 if key == "version" else "")
    row["merkle_proof"] = "" if proof is None else canonical_json(proof)
    return row


def render_csv(dossier: dict[str, Any]) -> str:
    """One row per event, the case's and then each probation's; the checkpoint on the rows it
    vouches for. RFC 4180, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    v1 = dossier.get("format") == DOSSIER_FORMAT_V1
    columns = CSV_COLUMNS if v1 else CSV_COLUMNS_V2
    writer.writerow(columns)
    cp = dossier.get("checkpoint") or {}
    case_id = dossier["case_id"]
    head = covered_through(dossier)
    rows = [
        _csv_row(
            e["case_id"],
            e,
            "",
            cp,
            cp.get("merkle_proof", []) if e["chain_index"] == head else None,
        )
        for e in dossier["events"]
    ]
    proofs = cp.get("probation_proofs", {})
    for probation in [] if v1 else dossier["probations"]:
        pid = probation["probation_id"]
        head = probation_covered_through(dossier, pid)
        rows += [
            _csv_row(
                case_id,
                e,
                pid,
                cp,
                proofs[pid]["merkle_proof"] if e["chain_index"] == head else None,
            )
            for e in probation["events"]
        ]
    writer.writerows([row[c] for c in columns] for row in rows)
    return out.getvalue()


def _event_from_row(row: dict[str, str], chain: Chain) -> dict[str, Any]:
    """The event a CSV row was rendered from (as ``link_json`` spells it)."""
    names = chain.field_names()
    event: dict[str, Any] = {name: row[name] for name in names}
    event.update(
        chain_index=int(row["chain_index"]),
        seq=int(row["seq"]),
        payload=json.loads(row["payload"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        id=int(row["id"]),
        recorded_at=row["recorded_at"],
    )
    return {"chain_index": event.pop("chain_index"), "seq": event.pop("seq"), **event}


def dossier_from_csv(text: str) -> dict[str, Any]:
    """The dossier (without every chain's head) that a CSV export was rendered from."""
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    v1 = bool(rows) and "probation_id" not in rows[0]
    columns = CSV_COLUMNS if v1 else CSV_COLUMNS_V2
    if not rows or set(columns) - set(rows[0]):
        raise DossierError("not a dossier CSV: the columns are not those of an export")
    events: list[dict[str, Any]] = []
    probations: dict[str, list[dict[str, Any]]] = {}
    signed: dict[str, Any] | None = None
    heads: dict[str, Any] = {}
    proofs: dict[str, Any] = {}
    line = 2
    try:
        for line, row in enumerate(rows, 2):
            pid = "" if v1 else row["probation_id"]
            if pid:
                probations.setdefault(pid, []).append(_event_from_row(row, PROBATION_CHAIN))
            else:
                events.append(_event_from_row(row, CASE_CHAIN))
            if not row["checkpoint_id"]:
                continue
            this = {
                "id": int(row["checkpoint_id"]),
                "created_at": row["checkpoint_created_at"],
                "merkle_root": row["merkle_root"],
                "event_count": int(row["checkpoint_event_count"]),
                "key_id": row["key_id"],
                "signature": row["signature"],
            }
            if not v1:
                this["version"] = int(row["checkpoint_version"])
            if signed is not None and this != signed:
                raise DossierError(f"line {line}: its checkpoint is not that of the rows before")
            signed = this
            head = [int(row["chain_index"]), row["hash"]]
            proof = json.loads(row["merkle_proof"])
            if pid and pid not in proofs:
                proofs[pid] = {"head": head, "merkle_proof": proof}
            elif not pid and not heads:
                heads = {"case_head": head, "merkle_proof": proof}
            else:
                raise DossierError("more than one row carries a checkpoint")
    except (ValueError, KeyError) as exc:
        if isinstance(exc, DossierError):
            raise
        raise DossierError(f"line {line}: {exc}") from exc
    if not events:
        raise DossierError("not a dossier CSV: it has no event of the case")
    checkpoint = None
    if signed is not None:
        checkpoint = {**signed, **heads}
        if not v1:
            checkpoint["probation_proofs"] = proofs
    parsed = [event_from_json(e) for e in events]
    dossier = {
        "format": DOSSIER_FORMAT_V1 if v1 else DOSSIER_FORMAT,
        "case_id": events[0]["case_id"],
        **derived_sections(parsed),
        "events": events,
    }
    if not v1:
        dossier["probations"] = [{"probation_id": p, "events": e} for p, e in probations.items()]
    return {**dossier, "checkpoint": checkpoint}
