"""The Merkle tree over the heads of every chain (默克尔树): what a checkpoint signs.

A head is the newest event of a chain: (chain_index, hash). Each head is a leaf under a name
(``leaf_name``): in checkpoints of version 1, which cover cases only, the case_id; from version
2 on, which cover cases and probations, the kind of chain, "/", and its id ("case/A-1",
"probation/probation-A-1-P7"). Two names of different kinds differ in their first bytes, so a
case's leaf can never stand for a probation's, whatever the ids. The tree's leaves are the heads
sorted by name (by code point, which is the order of the UTF-8 bytes, independent of any
database collation)::

    leaf = sha256(name + ":" + chain_index in decimal + ":" + hash), UTF-8
    node = sha256(left || right), on the 32-byte digests
    an odd node at the end of a level moves up unchanged; the root is written in hex

A leaf's preimage is text longer than 64 bytes and a node's is exactly 64 bytes, so a leaf can
never pass for a node. With no heads at all the root is sha256 of nothing.

An inclusion proof lets one case's dossier be checked against the signed root without the
heads of all other chains: the sibling of each level, and on which side it stands.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

MERKLE_RECIPE = (
    'leaves = sha256(case_id + ":" + chain_index + ":" + hash) of every case head, sorted by '
    "case_id (code point order); node = sha256(left digest || right digest); an odd node at "
    "the end of a level is promoted unchanged; root in hex"
)

MERKLE_RECIPE_V2 = (
    'leaves = sha256(name + ":" + chain_index + ":" + hash) of every chain\'s head, where name '
    'is "case/" + case_id or "probation/" + probation_id, sorted by name (code point order); '
    "node = sha256(left digest || right digest); an odd node at the end of a level is promoted "
    "unchanged; root in hex"
)

Heads = Mapping[str, tuple[int, str]]  # by leaf name


def leaf_name(chain: str, chain_id: str, version: int) -> str:
    """The name a chain's head goes by in the tree of a checkpoint of ``version``."""
    if version == 1:
        if chain != "case":
            raise ValueError("a checkpoint of version 1 covers cases only")
        return chain_id
    return f"{chain}/{chain_id}"


def leaf(name: str, chain_index: int, head_hash: str) -> bytes:
    return hashlib.sha256(f"{name}:{chain_index}:{head_hash}".encode()).digest()


def _parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(left + right).digest()


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [_parent(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def _leaves(heads: Heads) -> tuple[list[str], list[bytes]]:
    order = sorted(heads)
    return order, [leaf(name, heads[name][0], heads[name][1]) for name in order]


def merkle_root(heads: Heads) -> str:
    if not heads:
        return hashlib.sha256(b"").hexdigest()
    _, leaves = _leaves(heads)
    return _levels(leaves)[-1][0].hex()


def inclusion_proof(heads: Heads, name: str) -> list[dict[str, str]]:
    """The siblings from the leaf ``name`` up to the root: ``{"side": "left"|"right",
    "hash": hex}`` for each level where the node has one."""
    order, leaves = _leaves(heads)
    position = order.index(name)
    proof: list[dict[str, str]] = []
    for level in _levels(leaves)[:-1]:
        sibling = position ^ 1
        if sibling < len(level):
            side = "left" if sibling < position else "right"
            proof.append({"side": side, "hash": level[sibling].hex()})
        position //= 2
    return proof


def root_from_proof(name: str, chain_index: int, head_hash: str, proof: Any) -> str:
    """The root that ``proof`` leads to from this head; ValueError if the proof is malformed."""
    if not isinstance(proof, list):
        raise ValueError("the Merkle proof is not a list")
    node = leaf(name, chain_index, head_hash)
    for step in proof:
        if not isinstance(step, dict) or step.get("side") not in ("left", "right"):
            raise ValueError("a step of the Merkle proof is malformed")
        try:
            sibling = bytes.fromhex(str(step.get("hash")))
        except ValueError as exc:
            raise ValueError("a step of the Merkle proof is not hex") from exc
        node = _parent(sibling, node) if step["side"] == "left" else _parent(node, sibling)
    return node.hex()
