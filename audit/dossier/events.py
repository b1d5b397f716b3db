"""The events of a dossier: each written as the dossier carries it and read back, and the
sections (``case``, ``policy``, ``deadlines``) that the case's events alone say."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.chain import CASE_CHAIN, Chain, ChainFields, ChainLink, iso_utc, parse_iso_utc
from audit.dossier.spec import DOSSIER_FORMAT, WITH_CHAIN_KIND, DossierError
from audit.queries import AuditEvent, LoggedLink, standing
from workflows.ids import chain_kind_of


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
        raise DossierError("有一条记录不是 JSON 对象")
    try:
        fields = chain.fields.from_body(d)
        link = ChainLink(fields, str(d["prev_hash"]), str(d["hash"]))
        return LoggedLink(link, int(d["id"]), parse_iso_utc(str(d["recorded_at"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise DossierError(f"第 {d.get('chain_index')} 条记录格式不对：{exc}") from exc


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


def derived_sections(events: list[AuditEvent], fmt: str = DOSSIER_FORMAT) -> dict[str, Any]:
    """``case``, ``policy`` and ``deadlines``: what the events say, and nothing else (in a
    dossier of format ``fmt``: from v5, the case's ``chain``, by the id its events carry)."""
    now = standing(events)
    chain = {"chain": chain_kind_of(events[0].case_id).value} if events else {"chain": ""}
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
            **(chain if fmt in WITH_CHAIN_KIND else {}),
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
