"""A case's dossier assembled from the database: its events, its appointees' probations and
the newest signed checkpoint that covers it, with every chain's head."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import (
    CASE_CHAIN,
    HASH_RECIPE,
    PROBATION_CHAIN,
    PROBATION_HASH_RECIPE,
    iso_utc,
)
from audit.checkpoints import Checkpoint, latest_checkpoint_with
from audit.dossier.events import derived_sections, event_json, link_json
from audit.dossier.spec import DOSSIER_FORMAT, MERKLE_RECIPES, VERIFY_COMMAND, signature_recipe
from audit.merkle import inclusion_proof, leaf_name
from audit.queries import case_probations, probation_chain, timeline
from store.attachments import case_attachments


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
    # The files the case was given, by sha256 (a step's event names those it relied on). Only
    # a case that has any carries the section, so no dossier of a case without is changed.
    files = [a.to_json() for a in await case_attachments(session, case_id)]
    return {
        "format": DOSSIER_FORMAT,
        "case_id": case_id,
        "exported_at": iso_utc(now or datetime.now(UTC)),
        **derived_sections(events),
        "events": [event_json(e) for e in events],
        "probations": probations,
        **({"attachments": files} if files else {}),
        "checkpoint": None if cp is None else checkpoint_json(cp, case_id, ids, with_heads=True),
        "verification": {
            "command": VERIFY_COMMAND,
            "hash": HASH_RECIPE,
            "probation_hash": PROBATION_HASH_RECIPE,
            "merkle": MERKLE_RECIPES[version],
            "signature": signature_recipe(version),
        },
    }
