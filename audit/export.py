"""A case's dossier (案件审计档案) for auditors: JSON, CSV and a printable HTML page.

Each format carries what an auditor needs to check it offline with one command and the
public key (``appointments audit verify-dossier FILE --public-key KEY.pub.pem``):

- every event of the case, in chain order, with ``prev_hash`` and ``hash``;
- the newest signed checkpoint that covers the case: its root, signature and key id, the
  case's head in it with the Merkle inclusion proof and, in JSON, the heads of every case, so
  the root can also be recomputed from scratch;
- what the case was and became (``case``), the policy version it ran under (from its "opened"
  event) and, for every deadline, the calendar data that produced it (``deadlines``).

What proves what. The events are proven by their chain, the chain's head by the checkpoint,
the checkpoint by its signature. ``case``, ``policy`` and ``deadlines`` are derived from the
events alone (not from the mutable ``cases`` table), so the verifier derives them again and
compares. The CSV and HTML files are presentations: the verifier rebuilds the dossier from
them (the CSV's rows, the JSON embedded in the HTML page), checks it, renders it again and
compares the whole file, so no byte of what a reader sees can change unnoticed. Not evidence:
``exported_at`` and the database's own ``id`` and ``recorded_at`` of each event.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import (
    HASH_RECIPE,
    ChainFields,
    ChainLink,
    canonical_json,
    check_chain,
    iso_utc,
    parse_iso_utc,
)
from audit.checkpoints import (
    STATEMENT_PREFIX,
    Checkpoint,
    checkpoint_problems,
    heads_from_json,
    latest_checkpoint_with,
    statement,
)
from audit.keys import key_id, signature_valid
from audit.merkle import MERKLE_RECIPE, inclusion_proof, root_from_proof
from audit.queries import AuditEvent, standing, timeline
from starter.cli import STAGE_LABELS
from workflows.rules.working_days import SHANGHAI

DOSSIER_FORMAT = "cadre-appointments/audit-dossier/v1"
FORMATS = ("json", "csv", "html")
VERIFY_COMMAND = "appointments audit verify-dossier FILE --public-key PUBLIC_KEY.pem"
SIGNATURE_RECIPE = (
    "Ed25519 over "
    + repr(STATEMENT_PREFIX.decode())
    + " + canonical JSON of {created_at, event_count, key_id, merkle_root}"
)


class DossierError(ValueError):
    """A dossier that cannot even be read as one."""


# --------------------------------------------------------------------------- building


def event_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "chain_index": e.chain_index,
        "seq": e.seq,
        "case_id": e.case_id,
        "kind": e.kind,
        "stage": e.stage,
        "occurred_at": iso_utc(e.occurred_at),
        "actor_name": e.actor_name,
        "actor_role": e.actor_role,
        "summary": e.summary,
        "payload": e.payload,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "id": e.id,
        "recorded_at": iso_utc(e.recorded_at),
    }


def event_from_json(d: Any) -> AuditEvent:
    if not isinstance(d, dict):
        raise DossierError("an event is not an object")
    try:
        payload = d["payload"]
        if not isinstance(payload, dict):
            raise DossierError(f"event {d.get('chain_index')}: payload is not an object")
        return AuditEvent(
            id=int(d["id"]),
            case_id=str(d["case_id"]),
            seq=int(d["seq"]),
            chain_index=int(d["chain_index"]),
            kind=str(d["kind"]),
            stage=str(d["stage"]),
            occurred_at=parse_iso_utc(str(d["occurred_at"])),
            actor_name=str(d["actor_name"]),
            actor_role=str(d["actor_role"]),
            summary=str(d["summary"]),
            payload=payload,
            recorded_at=parse_iso_utc(str(d["recorded_at"])),
            prev_hash=str(d["prev_hash"]),
            hash=str(d["hash"]),
            person_ids=(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, DossierError):
            raise
        raise DossierError(f"event {d.get('chain_index')} is malformed: {exc}") from exc


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


def checkpoint_json(cp: Checkpoint, case_id: str, *, with_heads: bool) -> dict[str, Any]:
    out = cp.to_json(with_heads=False)
    index, digest = cp.case_heads[case_id]
    out["case_head"] = [index, digest]
    out["merkle_proof"] = inclusion_proof(cp.case_heads, case_id)
    if with_heads:
        out["case_heads"] = cp.to_json(with_heads=True)["case_heads"]
    return out


async def build_dossier(
    session: AsyncSession, case_id: str, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """The JSON dossier of a case (with every case's head), or None if the log has no such
    case."""
    events = sorted(await timeline(session, case_id), key=lambda e: e.chain_index)
    if not events:
        return None
    cp = await latest_checkpoint_with(session, case_id)
    return {
        "format": DOSSIER_FORMAT,
        "case_id": case_id,
        "exported_at": iso_utc(now or datetime.now(UTC)),
        **derived_sections(events),
        "events": [event_json(e) for e in events],
        "checkpoint": None if cp is None else checkpoint_json(cp, case_id, with_heads=True),
        "verification": {
            "command": VERIFY_COMMAND,
            "hash": HASH_RECIPE,
            "merkle": MERKLE_RECIPE,
            "signature": SIGNATURE_RECIPE,
        },
    }


def without_heads(dossier: dict[str, Any]) -> dict[str, Any]:
    """The dossier with its checkpoint proven by the inclusion proof alone (CSV, HTML)."""
    cp = dossier.get("checkpoint")
    if not isinstance(cp, dict):
        return dossier
    return {**dossier, "checkpoint": {k: v for k, v in cp.items() if k != "case_heads"}}


def covered_through(dossier: dict[str, Any]) -> int:
    """The chain_index up to which the checkpoint vouches for the case (0: none)."""
    cp = dossier.get("checkpoint")
    if isinstance(cp, dict) and isinstance(cp.get("case_head"), list) and cp["case_head"]:
        head = cp["case_head"][0]
        return head if isinstance(head, int) else 0
    return 0


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


def render_csv(dossier: dict[str, Any]) -> str:
    """One row per event; the checkpoint on the row it vouches for. RFC 4180, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    cp = dossier.get("checkpoint") or {}
    head = covered_through(dossier)
    for e in dossier["events"]:
        p = e["payload"]
        signed = e["chain_index"] == head
        writer.writerow(
            [
                e["case_id"],
                e["chain_index"],
                e["seq"],
                e["kind"],
                e["stage"],
                e["occurred_at"],
                e["actor_name"],
                e["actor_role"],
                e["summary"],
                canonical_json(p),
                e["prev_hash"],
                e["hash"],
                e["id"],
                e["recorded_at"],
                p.get("policy_version", "") if e["kind"] == "opened" else "",
                p.get("deadline_on", "") if e["kind"] == "deadline" else "",
                p.get("calendar_source", "") if e["kind"] == "deadline" else "",
                cp.get("id", "") if signed else "",
                cp.get("created_at", "") if signed else "",
                cp.get("merkle_root", "") if signed else "",
                cp.get("event_count", "") if signed else "",
                cp.get("key_id", "") if signed else "",
                cp.get("signature", "") if signed else "",
                canonical_json(cp.get("merkle_proof", [])) if signed else "",
            ]
        )
    return out.getvalue()


def dossier_from_csv(text: str) -> dict[str, Any]:
    """The dossier (without every case's head) that a CSV export was rendered from."""
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    if not rows or set(CSV_COLUMNS) - set(rows[0]):
        raise DossierError("not a dossier CSV: the columns are not those of an export")
    events = []
    checkpoint: dict[str, Any] | None = None
    try:
        for row in rows:
            events.append(
                {
                    "chain_index": int(row["chain_index"]),
                    "seq": int(row["seq"]),
                    "case_id": row["case_id"],
                    "kind": row["kind"],
                    "stage": row["stage"],
                    "occurred_at": row["occurred_at"],
                    "actor_name": row["actor_name"],
                    "actor_role": row["actor_role"],
                    "summary": row["summary"],
                    "payload": json.loads(row["payload"]),
                    "prev_hash": row["prev_hash"],
                    "hash": row["hash"],
                    "id": int(row["id"]),
                    "recorded_at": row["recorded_at"],
                }
            )
            if row["checkpoint_id"]:
                if checkpoint is not None:
                    raise DossierError("more than one row carries a checkpoint")
                checkpoint = {
                    "id": int(row["checkpoint_id"]),
                    "created_at": row["checkpoint_created_at"],
                    "merkle_root": row["merkle_root"],
                    "event_count": int(row["checkpoint_event_count"]),
                    "key_id": row["key_id"],
                    "signature": row["signature"],
                    "case_head": [int(row["chain_index"]), row["hash"]],
                    "merkle_proof": json.loads(row["merkle_proof"]),
                }
    except (ValueError, KeyError) as exc:
        if isinstance(exc, DossierError):
            raise
        raise DossierError(f"line {len(events) + 2}: {exc}") from exc
    case_id = events[0]["case_id"]
    parsed = [event_from_json(e) for e in events]
    return {
        "format": DOSSIER_FORMAT,
        "case_id": case_id,
        **derived_sections(parsed),
        "events": events,
        "checkpoint": checkpoint,
    }


# --------------------------------------------------------------------------- HTML

KIND_LABELS = {
    "opened": "立案",
    "transition": "阶段变更",
    "input": "录入",
    "deadline": "设定期限",
    "reminder": "提醒",
    "escalation": "督办",
    "overdue": "逾期",
    "blocked": "受阻",
    "timer": "期满",
    "eligibility": "资格审查",
    "closed": "结案",
}
ROLE_LABELS = {
    "clerk": "经办人员",
    "section_chief": "科长",
    "department_head": "部长",
    "inspection_team": "考察组",
    "committee_secretary": "常委会秘书",
    "auditor": "审计人员",
    "administrator": "系统管理员",
    "system": "系统",
}
STATUS_LABELS = {
    "active": "办理中",
    "appointed": "已任职",
    "not_appointed": "未任用",
    "withdrawn": "已撤销",
}
METHOD_LABELS = {
    "open_selection": "公开选拔",
    "competitive_appointment": "竞争上岗",
    "regular_appointment": "一般选拔任用",
}
_STAGES = {stage.value: label for stage, label in STAGE_LABELS.items()}

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


def _label(labels: dict[str, str], value: str) -> str:
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
        f"<dt>当前阶段</dt><dd>{_e(_label(_STAGES, case['stage']))}</dd>",
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
    for e in events:
        parts.append(
            f"<tr><td>{_e(e['chain_index'])}</td><td>{_e(e['seq'])}</td>"
            f"<td>{_e(_beijing(e['occurred_at']))}</td>"
            f"<td>{_e(_label(KIND_LABELS, e['kind']))}</td>"
            f"<td>{_e(_label(_STAGES, e['stage']))}</td>"
            f"<td>{_e(e['actor_name'])}</td><td>{_e(_label(ROLE_LABELS, e['actor_role']))}</td>"
            f"<td>{_e(e['summary'])}</td>"
            f'<td class="payload">{_e(canonical_json(e["payload"]))}</td>'
            f'<td class="mono">{_e(e["hash"])}<br>← {_e(e["prev_hash"])}</td></tr>'
        )
    parts += [
        "</tbody>",
        "</table>",
        "<h2>核验方法</h2>",
        f'<p class="note">事件哈希：{_e(HASH_RECIPE)}</p>',
        f'<p class="note">默克尔树：{_e(MERKLE_RECIPE)}</p>',
        f'<p class="note">签名：{_e(SIGNATURE_RECIPE)}</p>',
        f'<script type="application/json" id="dossier">\n{_embedded(d)}\n</script>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


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

    @property
    def ok(self) -> bool:
        return not self.faults


def _check_checkpoint(
    d: dict[str, Any], public_key: Ed25519PublicKey, report: DossierReport
) -> tuple[int, str] | None:
    """The case's head the checkpoint proves, or None (with the faults said)."""
    cp = d.get("checkpoint")
    case_id = report.case_id
    if cp is None:
        report.faults.append(
            f"case {case_id}: no signed checkpoint covers this case; create one "
            "(`appointments audit checkpoint`) and export again"
        )
        return None
    try:
        created_at = parse_iso_utc(str(cp["created_at"]))
        head_index, head_hash = cp["case_head"]
        head = (int(head_index), str(head_hash))
        report.checkpoint_id = int(cp["id"])
        checkpoint = Checkpoint(
            id=int(cp["id"]),
            created_at=created_at,
            merkle_root=str(cp["merkle_root"]),
            case_heads=heads_from_json(cp["case_heads"]) if "case_heads" in cp else {},
            event_count=int(cp["event_count"]),
            signature=str(cp["signature"]),
            key_id=str(cp["key_id"]),
        )
        proof = cp["merkle_proof"]
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
    if "case_heads" in cp:
        report.faults.extend(checkpoint_problems(checkpoint, public_key))
        if checkpoint.case_heads.get(case_id) != head:
            report.faults.append(f"{name}: the case's head is not the one among its case heads")
    elif not signature_valid(
        public_key,
        statement(created_at, checkpoint.event_count, checkpoint.key_id, checkpoint.merkle_root),
        checkpoint.signature,
    ):
        report.faults.append(
            f"{name}: the signature does not match its statement (root, count, time or key "
            "changed, or the signature forged)"
        )
    try:
        proven_root = root_from_proof(case_id, head[0], head[1], proof)
    except ValueError as exc:
        report.faults.append(f"{name}: {exc}")
        return None
    if proven_root != checkpoint.merkle_root:
        report.faults.append(
            f"{name}: the case's head and the Merkle proof do not lead to the signed root"
        )
    return head


def verify_dossier_data(d: dict[str, Any], public_key: Ed25519PublicKey, fmt: str) -> DossierReport:
    """Everything a dossier claims, checked from its own content and the public key."""
    report = DossierReport(fmt)
    if d.get("format") != DOSSIER_FORMAT:
        report.faults.append(f"not a dossier of format {DOSSIER_FORMAT}")
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
    links = [
        ChainLink(
            ChainFields(
                e.case_id,
                e.seq,
                e.chain_index,
                e.kind,
                e.stage,
                e.occurred_at,
                e.actor_name,
                e.actor_role,
                e.summary,
                e.payload,
            ),
            e.prev_hash,
            e.hash,
        )
        for e in events
    ]
    report.faults.extend(f.message for f in check_chain(report.case_id, links).faults)

    head = _check_checkpoint(d, public_key, report)
    if head is not None:
        index, digest = head
        by_index = {e.chain_index: e for e in events}
        if index not in by_index:
            report.faults.append(
                f"case {report.case_id}: the checkpoint signed the chain up to event {index}, "
                f"but the dossier ends at event {len(events)}: events were left out"
            )
        elif by_index[index].hash != digest:
            report.faults.append(
                f"case {report.case_id}: event {index} (seq {by_index[index].seq}) is not the "
                "event the checkpoint signed: the chain was rewritten at or before it"
            )
        else:
            report.covered_through = index
        later = [e for e in events if e.chain_index > index]
        if later:
            report.faults.append(
                f"case {report.case_id}: events {index + 1} to {max(e.chain_index for e in later)}"
                " are not covered by the checkpoint; create a checkpoint and export again"
            )

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
