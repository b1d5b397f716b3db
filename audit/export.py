"""A case's dossier (案件审计档案) for auditors: JSON, CSV and a printable HTML page.

Each format carries what an auditor needs to check it offline with one command and the
public key (``appointments audit verify-dossier FILE --public-key KEY.pub.pem``):

- every event of the case, in chain order, with ``prev_hash`` and ``hash``;
- every event of the probations of the case's appointees (``probations``), each probation's
  chain in chain order, with its hashes;
- the newest signed checkpoint that covers the case: its root, signature, key id and version,
  the case's head in it and each probation's, each with its Merkle inclusion proof and, in
  JSON, the heads of every chain, so the root can also be recomputed from scratch;
- what the case was and became (``case``), the policy version it ran under (from its "opened"
  event) and, for every deadline, the calendar data that produced it (``deadlines``).

What proves what. The events are proven by their chains, the chains' heads by the checkpoint,
the checkpoint by its signature. ``case``, ``policy`` and ``deadlines`` are derived from the
case's events alone (not from the mutable ``cases`` table), so the verifier derives them again
and compares; and every probation the case's events say it started must be in the dossier. The
CSV and HTML files are presentations: the verifier rebuilds the dossier from them (the CSV's
rows, the JSON embedded in the HTML page), checks it, renders it again and compares the whole
file, so no byte of what a reader sees can change unnoticed. Not evidence: ``exported_at`` and
the database's own ``id`` and ``recorded_at`` of each event.

Formats. Dossiers of format v1 were exported before probations were chained: no
``probations``, a checkpoint of version 1, CSV without the ``probation_id`` and
``checkpoint_version`` columns. They still verify, and are rendered again exactly as they were
written; a v1 dossier cannot carry a checkpoint of version 2, so probations cannot be dropped
from a new dossier by calling it an old one.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import (
    CASE_CHAIN,
    HASH_RECIPE,
    PROBATION_CHAIN,
    PROBATION_HASH_RECIPE,
    Chain,
    ChainFields,
    ChainLink,
    canonical_json,
    check_chain,
    iso_utc,
    parse_iso_utc,
)
from audit.checkpoints import (
    VERSIONS,
    Checkpoint,
    checkpoint_problems,
    heads_from_json,
    latest_checkpoint_with,
    statement_prefix,
)
from audit.glossary import (
    KIND_LABELS,
    METHOD_LABELS,
    PROBATION_KIND_LABELS,
    ROLE_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
)
from audit.keys import key_id, signature_valid
from audit.merkle import (
    MERKLE_RECIPE,
    MERKLE_RECIPE_V2,
    inclusion_proof,
    leaf_name,
    root_from_proof,
)
from audit.queries import (
    AuditEvent,
    LoggedLink,
    case_probations,
    probation_chain,
    standing,
    started_probations,
    timeline,
)
from workflows.rules.working_days import SHANGHAI

DOSSIER_FORMAT_V1 = "cadre-appointments/audit-dossier/v1"
DOSSIER_FORMAT = "cadre-appointments/audit-dossier/v2"
FORMATS = ("json", "csv", "html")
VERIFY_COMMAND = "appointments audit verify-dossier FILE --public-key PUBLIC_KEY.pem"


def signature_recipe(version: int) -> str:
    return (
        "Ed25519 over "
        + repr(statement_prefix(version).decode())
        + " + canonical JSON of {created_at, event_count, key_id, merkle_root}"
    )


SIGNATURE_RECIPE = signature_recipe(1)
MERKLE_RECIPES = {1: MERKLE_RECIPE, 2: MERKLE_RECIPE_V2}


class DossierError(ValueError):
    """A dossier that cannot even be read as one."""


# --------------------------------------------------------------------------- building


def link_json(link: ChainLink, id: int, recorded_at: datetime) -> dict[str, Any]:
    """An event of any chain as a dossier carries it."""
    f = link.fields
    return {
        "chain_index": f.chain_index,
        "seq": f.seq,
        **f.body(),
        "prev_hash": link.prev_hash,
        "hash": link.hash,
        "id": id,
        "recorded_at": iso_utc(recorded_at),
    }


def event_json(e: AuditEvent) -> dict[str, Any]:
    return link_json(e.link(), e.id, e.recorded_at)


def link_from_json(d: Any, chain: Chain) -> LoggedLink:
    """The inverse of ``link_json``; DossierError if it is not an event of ``chain``."""
    if not isinstance(d, dict):
        raise DossierError("an event is not an object")
    try:
        fields = chain.fields.from_body(d)
        link = ChainLink(fields, str(d["prev_hash"]), str(d["hash"]))
        return LoggedLink(link, int(d["id"]), parse_iso_utc(str(d["recorded_at"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise DossierError(f"event {d.get('chain_index')} is malformed: {exc}") from exc


def event_from_json(d: Any) -> AuditEvent:
    logged = link_from_json(d, CASE_CHAIN)
    f, link = logged.link.fields, logged.link
    assert isinstance(f, ChainFields)
    return AuditEvent(
        id=logged.id,
        recorded_at=logged.recorded_at,
        prev_hash=link.prev_hash,
        hash=link.hash,
        person_ids=(),
        **f.columns(),
    )


def derived_sections(events: list[AuditEvent]) -> dict[str, Any]:
    """``case``, ``policy`` and ``deadlines``: what the events say, and nothing else."""
    now = standing(events)
    opened = next((e for e in events if e.kind == "opened"), None)
    policy = opened.payload if opened is not None else {}
    deadlines = []
    for e in sorted(events, key=lambda e: e.seq):
        if e.kind != "deadline":
            continue
        p = e.payload
        deadlines.append(
            {
                "seq": e.seq,
                "chain_index": e.chain_index,
                "set_at": iso_utc(e.occurred_at),
                "step": p.get("step", ""),
                "deadline_on": p.get("deadline_on", ""),
                "deadline_at": p.get("deadline_at", ""),
                "calendar_source": p.get("calendar_source", ""),
                "alarms": p.get("alarms", []),
            }
        )
    return {
        "case": {
            "unit": now.unit if now else "",
            "post": now.post if now else "",
            "method": now.method if now else "",
            "stage": now.stage if now else "",
            "status": now.status if now else "",
            "outcome_reason": now.outcome_reason if now else "",
        },
        "policy": {
            "version": policy.get("policy_version", ""),
            "digest": policy.get("policy_digest", ""),
            "source": policy.get("policy_source", ""),
        },
        "deadlines": deadlines,
    }


def checkpoint_json(
    cp: Checkpoint, case_id: str, probation_ids: list[str], *, with_heads: bool
) -> dict[str, Any]:
    """The checkpoint as a dossier carries it: the heads of the case and of its probations
    that the checkpoint has, each with its inclusion proof (and every head, ``with_heads``)."""
    out = cp.to_json(with_heads=False)
    leaves = cp.leaves()
    index, digest = cp.case_heads[case_id]
    out["case_head"] = [index, digest]
    out["merkle_proof"] = inclusion_proof(leaves, leaf_name(CASE_CHAIN.name, case_id, cp.version))
    signed = cp.heads(PROBATION_CHAIN)
    out["probation_proofs"] = {
        p: {
            "head": list(signed[p]),
            "merkle_proof": inclusion_proof(leaves, leaf_name(PROBATION_CHAIN.name, p, cp.version)),
        }
        for p in probation_ids
        if p in signed
    }
    if with_heads:
        out.update({k: v for k, v in cp.to_json(with_heads=True).items() if k.endswith("_heads")})
    return out


async def build_dossier(
    session: AsyncSession, case_id: str, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """The JSON dossier of a case and its appointees' probations (with every chain's head),
    or None if the log has no such case."""
    events = sorted(await timeline(session, case_id), key=lambda e: e.chain_index)
    if not events:
        return None
    cp = await latest_checkpoint_with(session, case_id)
    probations: list[dict[str, Any]] = []
    for probation_id in await case_probations(session, case_id):
        chain = await probation_chain(session, probation_id)
        if chain:
            probations.append(
                {
                    "probation_id": probation_id,
                    "events": [link_json(e.link, e.id, e.recorded_at) for e in chain],
                }
            )
    ids = [p["probation_id"] for p in probations]
    version = 2 if cp is None else cp.version
    return {
        "format": DOSSIER_FORMAT,
        "case_id": case_id,
        "exported_at": iso_utc(now or datetime.now(UTC)),
        **derived_sections(events),
        "events": [event_json(e) for e in events],
        "probations": probations,
        "checkpoint": None if cp is None else checkpoint_json(cp, case_id, ids, with_heads=True),
        "verification": {
            "command": VERIFY_COMMAND,
            "hash": HASH_RECIPE,
            "probation_hash": PROBATION_HASH_RECIPE,
            "merkle": MERKLE_RECIPES[version],
            "signature": signature_recipe(version),
        },
    }


def without_heads(dossier: dict[str, Any]) -> dict[str, Any]:
    """The dossier with its checkpoint proven by the inclusion proofs alone (CSV, HTML)."""
    cp = dossier.get("checkpoint")
    if not isinstance(cp, dict):
        return dossier
    heads = ("case_heads", "probation_heads")
    return {**dossier, "checkpoint": {k: v for k, v in cp.items() if k not in heads}}


def covered_through(dossier: dict[str, Any]) -> int:
    """The chain_index up to which the checkpoint vouches for the case (0: none)."""
    cp = dossier.get("checkpoint")
    if isinstance(cp, dict) and isinstance(cp.get("case_head"), list) and cp["case_head"]:
        head = cp["case_head"][0]
        return head if isinstance(head, int) else 0
    return 0


def probation_covered_through(dossier: dict[str, Any], probation_id: str) -> int:
    """The chain_index up to which the checkpoint vouches for a probation (0: none)."""
    cp = dossier.get("checkpoint")
    proofs = cp.get("probation_proofs") if isinstance(cp, dict) else None
    proof = proofs.get(probation_id) if isinstance(proofs, dict) else None
    head = proof.get("head") if isinstance(proof, dict) else None
    if isinstance(head, list) and head and isinstance(head[0], int):
        return head[0]
    return 0


def uncovered(dossier: dict[str, Any]) -> list[str]:
    """The chains of the dossier whose newest events no signed checkpoint covers yet."""
    out = []
    if covered_through(dossier) < len(dossier["events"]):
        out.append(f"case {dossier['case_id']}")
    for p in dossier.get("probations", []):
        if probation_covered_through(dossier, p["probation_id"]) < len(p["events"]):
            out.append(f"probation {p['probation_id']}")
    return out


# --------------------------------------------------------------------------- JSON


def render_json(dossier: dict[str, Any]) -> str:
    return json.dumps(dossier, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- CSV

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


# --------------------------------------------------------------------------- HTML


_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
  "WenQuanYi Micro Hei", "PingFang SC", sans-serif; margin: 2em; color: #111; font-size: 14px; }
h1 { font-size: 22px; margin-bottom: 0.2em; }
h2 { font-size: 17px; border-bottom: 2px solid #8b0000; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; margin-top: 0.5em; }
th, td { border: 1px solid #999; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #f2e6e6; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dt { font-weight: bold; }
dd { margin: 0; }
.mono { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 11px;
  word-break: break-all; }
.payload { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 11px;
  white-space: pre-wrap; word-break: break-all; max-width: 28em; }
.note { color: #444; font-size: 12px; }
.warn { color: #8b0000; font-weight: bold; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; font-size: 10pt; }
  thead { display: table-header-group; }
  tr, dl { break-inside: avoid; }
  h2 { break-after: avoid; }
  th { background: #eee; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
""".strip()


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _beijing(iso: str) -> str:
    try:
        return parse_iso_utc(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def _label(labels: Mapping[str, str], value: str) -> str:
    label = labels.get(value)
    return f"{label}（{value}）" if label else value


def _embedded(dossier: dict[str, Any]) -> str:
    # "<", ">" and "&" only ever occur inside JSON strings, where \\u escapes mean the same:
    # the page's script block can then never be closed early by the data.
    text = json.dumps(dossier, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(dossier: dict[str, Any]) -> str:
    """A self-contained page (no external resources) that prints well; the dossier it shows
    is embedded in it, for ``verify-dossier``."""
    d = without_heads(dossier)
    case, policy, cp = d["case"], d["policy"], d.get("checkpoint")
    events = d["events"]
    head = covered_through(d)
    v1 = d.get("format") == DOSSIER_FORMAT_V1  # rendered exactly as v1 pages were
    version = cp.get("version", 1) if cp is not None else 1 if v1 else 2
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>案件审计档案 {_e(d['case_id'])}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>干部选拔任用案件审计档案：{_e(d['case_id'])}</h1>",
        f'<p class="note">导出时间（北京时间）：{_e(_beijing(d.get("exported_at", "")))}</p>',
        "<h2>案件概况</h2>",
        "<dl>",
        f"<dt>案件编号</dt><dd>{_e(d['case_id'])}</dd>",
        f"<dt>单位</dt><dd>{_e(case['unit'])}</dd>",
        f"<dt>职务</dt><dd>{_e(case['post'])}</dd>",
        f"<dt>选任方式</dt><dd>{_e(_label(METHOD_LABELS, case['method']))}</dd>",
        f"<dt>当前阶段</dt><dd>{_e(_label(STAGE_LABELS, case['stage']))}</dd>",
        f"<dt>状态</dt><dd>{_e(_label(STATUS_LABELS, case['status']))}</dd>",
        f"<dt>结案理由</dt><dd>{_e(case['outcome_reason'] or '—')}</dd>",
        f"<dt>政策版本</dt><dd>{_e(policy['version'] or '—')}</dd>",
        f'<dt>政策摘要</dt><dd class="mono">{_e(policy["digest"] or "—")}</dd>',
        f"<dt>政策来源</dt><dd>{_e(policy['source'] or '—')}</dd>",
        "</dl>",
        "<h2>核验信息（签名检查点）</h2>",
    ]
    if cp is None:
        parts.append('<p class="warn">尚无签名检查点覆盖本案件，本档案无法离线证明。</p>')
    else:
        parts += [
            "<dl>",
            f"<dt>检查点编号</dt><dd>{_e(cp['id'])}</dd>",
            *([] if v1 else [f"<dt>检查点版本</dt><dd>v{_e(version)}</dd>"]),
            f"<dt>签署时间</dt><dd>{_e(_beijing(cp['created_at']))}（北京时间）</dd>",
            f'<dt>默克尔根</dt><dd class="mono">{_e(cp["merkle_root"])}</dd>',
            f"<dt>覆盖事件总数</dt><dd>{_e(cp['event_count'])}</dd>",
            f'<dt>公钥指纹</dt><dd class="mono">{_e(cp["key_id"])}</dd>',
            f'<dt>签名</dt><dd class="mono">{_e(cp["signature"])}</dd>',
            f'<dt>本案链头</dt><dd class="mono">第 {_e(cp["case_head"][0])} 条：'
            f"{_e(cp['case_head'][1])}</dd>",
            f'<dt>默克尔证明</dt><dd class="mono">{_e(canonical_json(cp["merkle_proof"]))}</dd>',
            "</dl>",
        ]
        if head < len(events):
            parts.append(f'<p class="warn">第 {head + 1} 条及以后的事件尚未被签名检查点覆盖。</p>')
    parts += [
        f'<p class="note">离线核验：<span class="mono">{_e(VERIFY_COMMAND)}</span></p>',
        "<h2>期限及日历依据</h2>",
    ]
    if not d["deadlines"]:
        parts.append("<p>无。</p>")
    else:
        parts += [
            "<table>",
            "<thead><tr><th>序号</th><th>环节</th><th>截止日期</th><th>截止时刻（北京时间）</th>"
            "<th>日历依据</th><th>提醒与督办</th></tr></thead>",
            "<tbody>",
        ]
        for dl in d["deadlines"]:
            alarms = "；".join(
                f"{_label(KIND_LABELS, str(a.get('kind', '')))} "
                f"{_label(ROLE_LABELS, str(a.get('role', '')))} "
                f"{_beijing_any(a.get('at', ''))}"
                for a in dl["alarms"]
                if isinstance(a, dict)
            )
            parts.append(
                f"<tr><td>{_e(dl['seq'])}</td><td>{_e(dl['step'])}</td>"
                f"<td>{_e(dl['deadline_on'])}</td><td>{_e(_beijing_any(dl['deadline_at']))}</td>"
                f"<td>{_e(dl['calendar_source'])}</td><td>{_e(alarms or '—')}</td></tr>"
            )
        parts += ["</tbody>", "</table>"]
    parts += [
        "<h2>事件记录（按链序）</h2>",
        "<table>",
        "<thead><tr><th>链序</th><th>序号</th><th>时间（北京时间）</th><th>类型</th><th>阶段</th>"
        "<th>操作人</th><th>角色</th><th>摘要</th><th>内容</th><th>哈希 / 前序哈希</th></tr>"
        "</thead>",
        "<tbody>",
    ]
    parts += [_event_row(e, KIND_LABELS) for e in events]
    parts += ["</tbody>", "</table>"]
    if not v1:
        parts += _probation_sections(d)
    recipes = [("事件哈希", HASH_RECIPE)]
    if not v1:
        recipes.append(("试用期事件哈希", PROBATION_HASH_RECIPE))
    recipes += [("默克尔树", MERKLE_RECIPES[version]), ("签名", signature_recipe(version))]
    parts += [
        "<h2>核验方法</h2>",
        *(f'<p class="note">{what}：{_e(recipe)}</p>' for what, recipe in recipes),
        f'<script type="application/json" id="dossier">\n{_embedded(d)}\n</script>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _event_row(e: dict[str, Any], kinds: Mapping[str, str]) -> str:
    """A row of an events table; a case's event has a stage, a probation's has none."""
    stage = f"<td>{_e(_label(STAGE_LABELS, e['stage']))}</td>" if "stage" in e else ""
    return (
        f"<tr><td>{_e(e['chain_index'])}</td><td>{_e(e['seq'])}</td>"
        f"<td>{_e(_beijing(e['occurred_at']))}</td>"
        f"<td>{_e(_label(kinds, e['kind']))}</td>"
        f"{stage}"
        f"<td>{_e(e['actor_name'])}</td><td>{_e(_label(ROLE_LABELS, e['actor_role']))}</td>"
        f"<td>{_e(e['summary'])}</td>"
        f'<td class="payload">{_e(canonical_json(e["payload"]))}</td>'
        f'<td class="mono">{_e(e["hash"])}<br>← {_e(e["prev_hash"])}</td></tr>'
    )


def _probation_sections(d: dict[str, Any]) -> list[str]:
    """The probations of the case's appointees: each one's head in the checkpoint and its
    events."""
    parts = ["<h2>试用期记录（按链序）</h2>"]
    if not d["probations"]:
        parts.append("<p>无。</p>")
    cp = d.get("checkpoint") or {}
    for probation in d["probations"]:
        pid, events = probation["probation_id"], probation["events"]
        proof = cp.get("probation_proofs", {}).get(pid)
        parts.append(f"<h3>{_e(pid)}</h3>")
        if proof is None:
            parts.append('<p class="warn">尚无签名检查点覆盖该试用期记录。</p>')
        else:
            parts += [
                "<dl>",
                f'<dt>试用期链头</dt><dd class="mono">第 {_e(proof["head"][0])} 条：'
                f"{_e(proof['head'][1])}</dd>",
                f'<dt>默克尔证明</dt><dd class="mono">{_e(canonical_json(proof["merkle_proof"]))}'
                "</dd>",
                "</dl>",
            ]
            head = probation_covered_through(d, pid)
            if head < len(events):
                parts.append(
                    f'<p class="warn">第 {head + 1} 条及以后的事件尚未被签名检查点覆盖。</p>'
                )
        parts += [
            "<table>",
            "<thead><tr><th>链序</th><th>序号</th><th>时间（北京时间）</th><th>类型</th>"
            "<th>操作人</th><th>角色</th><th>摘要</th><th>内容</th><th>哈希 / 前序哈希</th></tr>"
            "</thead>",
            "<tbody>",
            *(_event_row(e, PROBATION_KIND_LABELS) for e in events),
            "</tbody>",
            "</table>",
        ]
    return parts


def _beijing_any(value: Any) -> str:
    """An instant written by pydantic (ISO 8601 with offset) in Beijing time."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if at.tzinfo is None:
        return str(value)
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


_EMBEDDED = re.compile(
    r'<script type="application/json" id="dossier">\n(.*?)\n</script>', re.DOTALL
)


def dossier_from_html(text: str) -> dict[str, Any]:
    match = _EMBEDDED.search(text)
    if match is None:
        raise DossierError("not a dossier page: it has no embedded dossier")
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError as exc:
        raise DossierError(f"the embedded dossier is not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise DossierError("the embedded dossier is not an object")
    return data


def render(dossier: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return render_json(dossier)
    if fmt == "csv":
        return render_csv(without_heads(dossier))
    if fmt == "html":
        return render_html(dossier)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def write(text: str, path: Path, fmt: str) -> None:
    # The CSV gets a byte-order mark so that spreadsheet programs read it as UTF-8.
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    with path.open("w", encoding=encoding, newline="") as out:
        out.write(text)


# --------------------------------------------------------------------------- verifying


@dataclass
class DossierReport:
    format: str
    case_id: str = ""
    events: int = 0
    covered_through: int = 0
    checkpoint_id: int | None = None
    faults: list[str] = field(default_factory=list)
    probations: int = 0
    probation_events: int = 0

    @property
    def ok(self) -> bool:
        return not self.faults


@dataclass(frozen=True, slots=True)
class _Proven:
    """A dossier's checkpoint whose signature was checked (faults said if it failed)."""

    name: str
    checkpoint: Checkpoint
    with_heads: bool  # the dossier carries every chain's head, not proofs alone


def _check_checkpoint(
    d: dict[str, Any], public_key: Ed25519PublicKey, report: DossierReport
) -> _Proven | None:
    """The checkpoint, its signature checked, or None (with the faults said)."""
    cp = d.get("checkpoint")
    case_id = report.case_id
    if cp is None:
        report.faults.append(
            f"case {case_id}: no signed checkpoint covers this case; create one "
            "(`appointments audit checkpoint`) and export again"
        )
        return None
    try:
        report.checkpoint_id = int(cp["id"])
        with_heads = "case_heads" in cp
        checkpoint = Checkpoint(
            id=int(cp["id"]),
            created_at=parse_iso_utc(str(cp["created_at"])),
            merkle_root=str(cp["merkle_root"]),
            case_heads=heads_from_json(cp["case_heads"]) if with_heads else {},
            event_count=int(cp["event_count"]),
            signature=str(cp["signature"]),
            key_id=str(cp["key_id"]),
            probation_heads=heads_from_json(cp.get("probation_heads", {}), "probation_heads"),
            version=int(cp.get("version", 1)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        report.faults.append(f"the checkpoint is malformed: {exc}")
        return None
    name = f"checkpoint #{checkpoint.id}"
    if checkpoint.key_id != key_id(public_key):
        report.faults.append(
            f"{name} was signed with key {checkpoint.key_id}; the public key given is "
            f"{key_id(public_key)}"
        )
        return None
    if checkpoint.version not in VERSIONS:
        report.faults.append(f"{name} is of version {checkpoint.version}, unknown to this program")
        return None
    if d.get("format") == DOSSIER_FORMAT_V1 and checkpoint.version != 1:
        report.faults.append(
            f"{name} is of version {checkpoint.version}, but a dossier of format "
            f"{DOSSIER_FORMAT_V1} can only carry one of version 1"
        )
        return None
    if with_heads:
        report.faults.extend(checkpoint_problems(checkpoint, public_key))
    elif not signature_valid(public_key, checkpoint.statement(), checkpoint.signature):
        report.faults.append(
            f"{name}: the signature does not match its statement (root, count, time, version "
            "or key changed, or the signature forged)"
        )
    return _Proven(name, checkpoint, with_heads)


def _check_head(
    report: DossierReport,
    proven: _Proven,
    chain: Chain,
    chain_id: str,
    links: list[ChainLink],
    head: Any,
    proof: Any,
) -> int:
    """A chain of the dossier against the head the checkpoint signed for it: the chain_index
    up to which the checkpoint vouches for it (0 if it does not)."""
    name, cp, noun = proven.name, proven.checkpoint, f"{chain.name} {chain_id}"
    try:
        index, digest = int(head[0]), str(head[1])
        proven_root = root_from_proof(
            leaf_name(chain.name, chain_id, cp.version), index, digest, proof
        )
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        report.faults.append(f"{name}: the head of {noun} or its Merkle proof is malformed: {exc}")
        return 0
    if proven.with_heads and cp.heads(chain).get(chain_id) != (index, digest):
        report.faults.append(f"{name}: the {chain.name}'s head is not the one among its heads")
    if proven_root != cp.merkle_root:
        report.faults.append(
            f"{name}: the {chain.name}'s head and the Merkle proof do not lead to the signed root"
        )
    covered = 0
    by_index = {link.fields.chain_index: link for link in links}
    if index not in by_index:
        report.faults.append(
            f"{noun}: the checkpoint signed the chain up to event {index}, but the dossier ends "
            f"at event {len(links)}: events were left out"
        )
    elif by_index[index].hash != digest:
        report.faults.append(
            f"{noun}: event {index} (seq {by_index[index].fields.seq}) is not the event the "
            "checkpoint signed: the chain was rewritten at or before it"
        )
    else:
        covered = index
    later = [i for i in by_index if i > index]
    if later:
        report.faults.append(
            f"{noun}: events {index + 1} to {max(later)} are not covered by the checkpoint; "
            "create a checkpoint and export again"
        )
    return covered


def _check_probations(
    d: dict[str, Any], report: DossierReport, proven: _Proven | None, started: set[str]
) -> None:
    """Each probation's chain on its own and against the checkpoint; and every probation the
    case's events say it started is there."""
    raw = d.get("probations")
    if not isinstance(raw, list):
        report.faults.append("the dossier has no list of probations")
        return
    cp = d.get("checkpoint") or {}
    seen: set[str] = set()
    for entry in raw:
        try:
            pid = str(entry["probation_id"])
            links = [link_from_json(e, PROBATION_CHAIN).link for e in entry["events"]]
        except (DossierError, KeyError, TypeError) as exc:
            report.faults.append(f"a probation of the dossier is malformed: {exc}")
            continue
        if pid in seen:
            report.faults.append(f"probation {pid} is in the dossier twice")
        seen.add(pid)
        report.probations += 1
        report.probation_events += len(links)
        strangers = sorted({link.fields.chain_id for link in links} - {pid})
        if strangers:
            report.faults.append(
                f"probation {pid}: events of other probations are among its events: "
                + ", ".join(strangers)
            )
        report.faults.extend(f.message for f in check_chain(pid, links, PROBATION_CHAIN).faults)
        if proven is None:
            continue  # said already: no checkpoint to prove anything with
        proof = cp.get("probation_proofs", {}).get(pid)
        if not isinstance(proof, dict):
            report.faults.append(
                f"probation {pid}: no signed checkpoint covers it; create one "
                "(`appointments audit checkpoint`) and export again"
            )
            continue
        _check_head(
            report,
            proven,
            PROBATION_CHAIN,
            pid,
            links,
            proof.get("head"),
            proof.get("merkle_proof"),
        )
    for pid in sorted(started - seen):
        report.faults.append(
            f"case {report.case_id}: its events say probation {pid} was started, but the "
            "dossier has none of its events"
        )


def verify_dossier_data(d: dict[str, Any], public_key: Ed25519PublicKey, fmt: str) -> DossierReport:
    """Everything a dossier claims, checked from its own content and the public key."""
    report = DossierReport(fmt)
    if d.get("format") not in (DOSSIER_FORMAT, DOSSIER_FORMAT_V1):
        report.faults.append(f"not a dossier of format {DOSSIER_FORMAT} (nor {DOSSIER_FORMAT_V1})")
        return report
    report.case_id = str(d.get("case_id", ""))
    raw_events = d.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        report.faults.append("the dossier has no events")
        return report
    try:
        events = [event_from_json(e) for e in raw_events]
    except DossierError as exc:
        report.faults.append(str(exc))
        return report
    report.events = len(events)
    strangers = sorted({e.case_id for e in events} - {report.case_id})
    if strangers:
        report.faults.append(f"events of other cases are in the dossier: {', '.join(strangers)}")
    links = [e.link() for e in events]
    report.faults.extend(f.message for f in check_chain(report.case_id, links).faults)

    proven = _check_checkpoint(d, public_key, report)
    if proven is not None:
        cp = d["checkpoint"]
        report.covered_through = _check_head(
            report,
            proven,
            CASE_CHAIN,
            report.case_id,
            links,
            cp.get("case_head"),
            cp.get("merkle_proof"),
        )
    if d["format"] == DOSSIER_FORMAT_V1:
        if "probations" in d:
            report.faults.append(f"a dossier of format {DOSSIER_FORMAT_V1} has no probations")
    else:
        _check_probations(d, report, proven, started_probations(events))

    derived = derived_sections(events)
    for section in ("case", "policy", "deadlines"):
        if d.get(section) != derived[section]:
            report.faults.append(
                f"the dossier's {section!r} section does not say what its events say"
            )
    return report


def sniff(text: str) -> str:
    start = text.lstrip()[:20].lower()
    if start.startswith("{"):
        return "json"
    if start.startswith("<!doctype") or start.startswith("<html"):
        return "html"
    return "csv"


def verify_dossier_file(path: Path, public_key: Ed25519PublicKey) -> DossierReport:
    """Verify a dossier file of any of the three formats, offline."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        return DossierReport("?", faults=[f"{path}: not UTF-8 text (byte {exc.start})"])
    except OSError as exc:
        return DossierReport("?", faults=[f"{path}: cannot be read: {exc.strerror}"])
    fmt = sniff(text)
    try:
        if fmt == "json":
            data = json.loads(text)
            if not isinstance(data, dict):
                raise DossierError("not a dossier: the JSON is not an object")
        elif fmt == "html":
            data = dossier_from_html(text)
        else:
            data = dossier_from_csv(text)
    except json.JSONDecodeError as exc:
        return DossierReport(fmt, faults=[f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}"])
    except DossierError as exc:
        return DossierReport(fmt, faults=[f"{path}: {exc}"])
    report = verify_dossier_data(data, public_key, fmt)
    if fmt != "json" and report.events:
        try:
            again = render(data, fmt)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.faults.append(f"{path}: the dossier cannot be rendered again: {exc}")
            return report
        if again != text:
            line = _first_difference(again, text)
            report.faults.append(
                f"{path}: line {line} differs from what the verified dossier renders to: the "
                f"file was changed after export"
            )
    return report


def _first_difference(a: str, b: str) -> int:
    for number, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if x != y:
            return number
    return min(len(a.splitlines()), len(b.splitlines())) + 1
