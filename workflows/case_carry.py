"""What one run of a case hands to the next when it continues as new (接续运行).

A case whose history grows long (a flood of objections in its notice) continues as new when
Temporal suggests it: the next run starts from ``CaseRun.carry`` instead of the case file,
with its policy, its people, its state, the number of events it has recorded and the
deadline of the step it waits on, so nothing is asked, recorded or reminded twice.

Only a run continued from an earlier run of the same case may take a carry: a client that
starts a case with one is refused (the state would be whatever it wrote).
"""

from __future__ import annotations

from datetime import datetime

from workflows.policy import PolicySnapshot
from workflows.types import Candidate, CaseInput, CaseState, Model, StepSchedule


class CaseCarry(Model):
    snapshot: PolicySnapshot  # the case keeps the policy it started with
    people: list[Candidate]  # the case file's candidates and the exam's applicants
    state: CaseState
    seq: int  # events recorded so far
    retries: int
    carried_at: datetime  # alarms and overdue marks up to here were sent by the last run
    overdue: bool
    schedule: StepSchedule | None = None  # the deadline of the awaited step, if it has one
    schedule_key: str = ""  # the awaited step that schedule belongs to


class CaseRun(CaseInput):
    """The workflow's input: the case file, and the carry on a continued run."""

    carry: CaseCarry | None = None
