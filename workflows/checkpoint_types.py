"""The audit checkpoint's input and result (签名检查点), apart from its workflow so that the
typed activity references can name them."""

from __future__ import annotations

from workflows.types import Model


class CheckpointRequest(Model):
    reason: str = "scheduled"


class CheckpointResult(Model):
    checkpoint_id: int
    merkle_root: str
    cases: int
    events: int  # of cases and probations
    key_id: str
    probations: int = 0  # chains of probation events it covers (0 in results made before)
