"""What a dossier's checkpoint vouches for: the chains and events it covers, and the dossier
with the checkpoint proven by its inclusion proofs alone."""

from __future__ import annotations

from typing import Any


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
        out.append(f"案件 {dossier['case_id']}")
    for p in dossier.get("probations", []):
        if probation_covered_through(dossier, p["probation_id"]) < len(p["events"]):
            out.append(f"试用期 {p['probation_id']}")
    return out
