"""The HTML dossier: a self-contained page that prints well, with the dossier it shows
embedded in it; and the dossier read back from the page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from audit.chain import HASH_RECIPE, PROBATION_HASH_RECIPE, canonical_json, parse_iso_utc
from audit.dossier.coverage import covered_through, probation_covered_through, without_heads
from audit.dossier.spec import (
    DOSSIER_FORMAT_V1,
    MERKLE_RECIPES,
    VERIFY_COMMAND,
    WITH_CHAIN_KIND,
    DossierError,
    signature_recipe,
)
from audit.glossary import (
    CHAIN_LABELS_V5,
    KIND_LABELS,
    KIND_LABELS_V5,
    METHOD_LABELS,
    PROBATION_KIND_LABELS,
    ROLE_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
)
from workflows.rules.working_days import SHANGHAI

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


def _name(labels: Mapping[str, str], value: str) -> str:
    """A value by its name alone (format v5 on); one without a name as it is."""
    return labels.get(value) or value


Labeller = Callable[[Mapping[str, str], str], str]
APPOINTMENT = "appointment"  # the chain kind of a case (``workflows.types.ChainKind``)


def _embedded(dossier: dict[str, Any]) -> str:
    # "<", ">" and "&" only ever occur inside JSON strings, where \\u escapes mean the same:
    # the page's script block can then never be closed early by the data.
    text = json.dumps(dossier, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(dossier: dict[str, Any]) -> str:
    """A self-contained page (no external resources) that prints well; the dossier it shows
    is embedded in it, for ``verify-dossier``."""
    d = without_heads(dossier)
    case, cp = d["case"], d.get("checkpoint")
    events = d["events"]
    head = covered_through(d)
    v1 = d.get("format") == DOSSIER_FORMAT_V1  # rendered exactly as v1 pages were
    v5 = d.get("format") in WITH_CHAIN_KIND  # names alone, the chain's kind said
    version = cp.get("version", 1) if cp is not None else 1 if v1 else 2
    named: Labeller = _name if v5 else _label
    kinds = KIND_LABELS_V5 if v5 else KIND_LABELS
    chain = str(case.get("chain", APPOINTMENT)) if v5 else APPOINTMENT
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        *(_case_head(d, named, v5) if chain == APPOINTMENT else _chain_head(d, chain)),
        "<h2>核验信息（签名检查点）</h2>",
    ]
    this = "本案件" if chain == APPOINTMENT else "本审计链"
    if cp is None:
        parts.append(f'<p class="warn">尚无签名检查点覆盖{this}，本档案无法离线证明。</p>')
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
            *([_previous(cp["previous"])] if "previous" in cp else []),
            f"<dt>{'本案' if chain == APPOINTMENT else '本链'}链头</dt>"
            f'<dd class="mono">第 {_e(cp["case_head"][0])} 条：'
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
                f"{named(kinds, str(a.get('kind', '')))} "
                f"{named(ROLE_LABELS, str(a.get('role', '')))} "
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
    parts += [_event_row(e, kinds, named) for e in events]
    parts += ["</tbody>", "</table>"]
    if not v1:
        parts += _probation_sections(d, named)
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


def _case_head(d: dict[str, Any], named: Labeller, v5: bool) -> list[str]:
    """The page's title and what the case was and became."""
    case, policy = d["case"], d["policy"]
    return [
        f"<title>案件审计档案 {_e(d['case_id'])}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>干部选拔任用案件审计档案：{_e(d['case_id'])}</h1>",
        f'<p class="note">导出时间（北京时间）：{_e(_beijing(d.get("exported_at", "")))}</p>',
        "<h2>案件概况</h2>",
        "<dl>",
        f"<dt>案件编号</dt><dd>{_e(d['case_id'])}</dd>",
        *([f"<dt>审计链类别</dt><dd>{_e(CHAIN_LABELS_V5[APPOINTMENT])}</dd>"] if v5 else []),
        f"<dt>单位</dt><dd>{_e(case['unit'])}</dd>",
        f"<dt>职务</dt><dd>{_e(case['post'])}</dd>",
        f"<dt>选任方式</dt><dd>{_e(named(METHOD_LABELS, case['method']))}</dd>",
        f"<dt>当前阶段</dt><dd>{_e(named(STAGE_LABELS, case['stage']))}</dd>",
        f"<dt>状态</dt><dd>{_e(named(STATUS_LABELS, case['status']))}</dd>",
        f"<dt>结案理由</dt><dd>{_e(case['outcome_reason'] or '—')}</dd>",
        f"<dt>政策版本</dt><dd>{_e(policy['version'] or '—')}</dd>",
        f'<dt>政策摘要</dt><dd class="mono">{_e(policy["digest"] or "—")}</dd>',
        f"<dt>政策来源</dt><dd>{_e(policy['source'] or '—')}</dd>",
        "</dl>",
    ]


def _chain_head(d: dict[str, Any], chain: str) -> list[str]:
    """The page's title and what the chain records, for an audit chain that is not a case
    (format v5 on): it has no method, stage or status of its own."""
    kind = CHAIN_LABELS_V5.get(chain, chain)
    return [
        f"<title>{_e(kind)}审计档案 {_e(d['case_id'])}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(kind)}审计档案：{_e(d['case_id'])}</h1>",
        f'<p class="note">导出时间（北京时间）：{_e(_beijing(d.get("exported_at", "")))}</p>',
        "<h2>审计链概况</h2>",
        "<dl>",
        f"<dt>审计链编号</dt><dd>{_e(d['case_id'])}</dd>",
        f"<dt>审计链类别</dt><dd>{_e(kind)}</dd>",
        f"<dt>说明</dt><dd>本审计链记录{_e(kind)}，不是干部选拔任用案件，"
        "没有选任方式、阶段和状态。</dd>",
        "</dl>",
    ]


def _previous(previous: Any) -> str:
    """The checkpoint's link to the one before it (version 3 on)."""
    if not isinstance(previous, dict):
        return "<dt>前一检查点</dt><dd>无（这是第一个检查点）</dd>"
    return (
        f'<dt>前一检查点</dt><dd class="mono">#{_e(previous.get("number"))}：'
        f"{_e(previous.get('digest'))}</dd>"
    )


def _event_row(e: dict[str, Any], kinds: Mapping[str, str], named: Labeller) -> str:
    """A row of an events table; a case's event has a stage, a probation's has none."""
    stage = f"<td>{_e(named(STAGE_LABELS, e['stage']))}</td>" if "stage" in e else ""
    return (
        f"<tr><td>{_e(e['chain_index'])}</td><td>{_e(e['seq'])}</td>"
        f"<td>{_e(_beijing(e['occurred_at']))}</td>"
        f"<td>{_e(named(kinds, e['kind']))}</td>"
        f"{stage}"
        f"<td>{_e(e['actor_name'])}</td><td>{_e(named(ROLE_LABELS, e['actor_role']))}</td>"
        f"<td>{_e(e['summary'])}</td>"
        f'<td class="payload">{_e(canonical_json(e["payload"]))}</td>'
        f'<td class="mono">{_e(e["hash"])}<br>← {_e(e["prev_hash"])}</td></tr>'
    )


def _probation_sections(d: dict[str, Any], named: Labeller) -> list[str]:
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
            *(_event_row(e, PROBATION_KIND_LABELS, named) for e in events),
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
        raise DossierError("不是案卷网页：其中没有嵌入的案卷")
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError as exc:
        raise DossierError(f"嵌入的案卷不是有效的 JSON：{exc.msg}") from exc
    if not isinstance(data, dict):
        raise DossierError("嵌入的案卷不是 JSON 对象")
    return data
