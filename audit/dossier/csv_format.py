"""The CSV dossier: one row per event, the case's and then each probation's, with the
checkpoint on the rows of the heads it signed; and the dossier read back from its rows.

From format v3 every cell is text to a spreadsheet: a cell that begins as a formula would
(``=``, ``+``, ``-``, ``@``, a tab or a carriage return, or their full-width forms that a
Chinese input method types) gets a leading ``'``, and so does one that begins with ``'``
itself, so reading it back is taking exactly one ``'`` off. A name like ``=HYPERLINK(...)``
is then shown, never run. The column ``format`` says so on every row; a CSV without it was
written as v2 (or v1) and is read, and rendered again for verification, as it was.

From format v4 the column ``checkpoint_previous`` carries the checkpoint's link to the one
before it (canonical JSON of ``{"digest", "number"}``, ``null`` for the first; empty for a
checkpoint of a version without one), which a checkpoint of version 3 signs. Format v5 has
the rows of v4 (the kind of chain it adds is derived from them), its name in ``format``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from audit.chain import CASE_CHAIN, PROBATION_CHAIN, Chain, canonical_json
from audit.dossier.coverage import covered_through, probation_covered_through
from audit.dossier.events import derived_sections, event_from_json
from audit.dossier.spec import (
    DOSSIER_FORMAT,
    DOSSIER_FORMAT_V1,
    DOSSIER_FORMAT_V2,
    DOSSIER_FORMAT_V3,
    DOSSIER_FORMAT_V4,
    DossierError,
)

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
# Format v3: as v2, every cell neutralised, and the format named on every row.
CSV_COLUMNS_V3 = (*CSV_COLUMNS_V2, "format")
# Format v4: as v3, and the checkpoint's link to the one before it, after its signature.
CSV_COLUMNS_V4 = tuple(
    name
    for column in CSV_COLUMNS_V3
    for name in ((column, "checkpoint_previous") if column == "signature" else (column,))
)
_COLUMNS = {
    DOSSIER_FORMAT_V1: CSV_COLUMNS,
    DOSSIER_FORMAT_V2: CSV_COLUMNS_V2,
    DOSSIER_FORMAT_V3: CSV_COLUMNS_V3,
    DOSSIER_FORMAT_V4: CSV_COLUMNS_V4,
    DOSSIER_FORMAT: CSV_COLUMNS_V4,  # v5's rows are v4's: what it adds is derived
}
_NEUTRALISED = (DOSSIER_FORMAT_V3, DOSSIER_FORMAT_V4, DOSSIER_FORMAT)
# the formats of the v4 layout, told apart by the ``format`` column
_V4_LAYOUT = (DOSSIER_FORMAT_V4, DOSSIER_FORMAT)
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
    row["checkpoint_previous"] = (
        canonical_json(cp["previous"]) if proof is not None and "previous" in cp else ""
    )
    row["merkle_proof"] = "" if proof is None else canonical_json(proof)
    return row


# What makes a spreadsheet program read a cell as a formula (OWASP's list, and the same signs
# full-width), and the sign that makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
TEXT_MARK = "'"


def neutralised(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading ``'`` before a formula's sign
    (and before a leading ``'``, so that ``restored`` is exact)."""
    return TEXT_MARK + cell if cell.startswith((*FORMULA_STARTS, TEXT_MARK)) else cell


def restored(cell: str) -> str:
    """The cell ``neutralised`` was given."""
    return cell.removeprefix(TEXT_MARK)


def _format_of(dossier: dict[str, Any]) -> str:
    found = dossier.get("format")
    return found if found in _COLUMNS else DOSSIER_FORMAT


def render_csv(dossier: dict[str, Any]) -> str:
    """One row per event, the case's and then each probation's; the checkpoint on the rows it
    vouches for. RFC 4180, CRLF. In the layout of the dossier's format (see the module)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    fmt = _format_of(dossier)
    v1 = fmt == DOSSIER_FORMAT_V1
    columns = _COLUMNS[fmt]
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
    if fmt not in _NEUTRALISED:  # written as it was then, to be verified byte for byte
        writer.writerows([row[c] for c in columns] for row in rows)
        return out.getvalue()
    for row in rows:
        row["format"] = fmt
    writer.writerows(
        [neutralised(v) if isinstance(v, str) else v for v in (row[c] for c in columns)]
        for row in rows
    )
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
    header = rows[0].keys() if rows else {"probation_id"}
    if "probation_id" not in header:
        fmt = DOSSIER_FORMAT_V1
    elif "checkpoint_previous" in header:
        named = rows[0].get("format")
        fmt = named if named in _V4_LAYOUT else DOSSIER_FORMAT
    else:
        fmt = DOSSIER_FORMAT_V3 if "format" in header else DOSSIER_FORMAT_V2
    v1 = fmt == DOSSIER_FORMAT_V1
    columns = _COLUMNS[fmt]
    if not rows or set(columns) - set(rows[0]):
        raise DossierError("不是案卷 CSV：列与导出的案卷不同")
    if fmt in _NEUTRALISED:
        rows = [{k: restored(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
        if {r["format"] for r in rows} != {fmt}:
            raise DossierError(f"不是案卷 CSV：并非每行都是格式 {fmt}")
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
            if row.get("checkpoint_previous"):
                this["previous"] = json.loads(row["checkpoint_previous"])
            if signed is not None and this != signed:
                raise DossierError(f"第 {line} 行：其检查点与之前各行的不同")
            signed = this
            head = [int(row["chain_index"]), row["hash"]]
            proof = json.loads(row["merkle_proof"])
            if pid and pid not in proofs:
                proofs[pid] = {"head": head, "merkle_proof": proof}
            elif not pid and not heads:
                heads = {"case_head": head, "merkle_proof": proof}
            else:
                raise DossierError("不止一行带有检查点")
    except (ValueError, KeyError) as exc:
        if isinstance(exc, DossierError):
            raise
        raise DossierError(f"第 {line} 行：{exc}") from exc
    if not events:
        raise DossierError("不是案卷 CSV：其中没有该案件的记录")
    checkpoint = None
    if signed is not None:
        checkpoint = {**signed, **heads}
        if not v1:
            checkpoint["probation_proofs"] = proofs
    parsed = [event_from_json(e) for e in events]
    dossier = {
        "format": fmt,
        "case_id": events[0]["case_id"],
        **derived_sections(parsed, fmt),
        "events": events,
    }
    if not v1:
        dossier["probations"] = [{"probation_id": p, "events": e} for p, e in probations.items()]
    return {**dossier, "checkpoint": checkpoint}
