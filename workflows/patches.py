"""Patches a run takes all at once when it begins under the code that has them all (基线补丁).

Each ``workflow.patched(id)`` a run takes writes a marker and, by the SDK's core, an upsert of
the ``TemporalChangeVersion`` search attribute: a visibility write on the server for every
patch of every case, about as costly as a step's own upsert, for a branch that a run begun
under this code takes always. ``Baseline`` answers for a set of patches with one marker: a run
that finds the baseline's marker (or writes it, beginning now) takes every patch of the set
without a marker of its own; a run that began before the baseline (its first workflow task,
replayed, has no such marker) asks each patch as before, so the histories it wrote replay
unchanged and a case in flight across a deploy takes a patch the ordinary way.

Only a patch whose new branch a run begun now always takes belongs in a baseline; a patch
added later is asked on its own. A later baseline that folds it must still answer for the runs
begun under this one (their histories hold this baseline's marker and no other): it asks this
one's marker too, and keeps a saved history of each.
Operators who list runs by ``TemporalChangeVersion`` find the baseline's id on new runs.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

Patched = Callable[[str], bool]
# the name of the history's marker for a patch a run took (the SDK's core writes it)
PATCH_MARKER = "core_patch"


class Baseline:
    """``patched(id)`` for one run: True for the folded patches if the run began under a
    baseline, else ``workflow.patched(id)``. Made as the run's first command (it asks for the
    baselines' markers at once, so their place in the history is the same in every run).

    ``baselines``: (marker, folded patches), the newest first. A run begun now writes the
    newest's marker only; a replayed run finds the one it began under (the markers before it
    are absent, and asking for an absent marker in replay writes nothing)."""

    def __init__(self, *baselines: tuple[str, frozenset[str]]) -> None:
        self._folded: frozenset[str] = frozenset()
        for baseline_id, folded in baselines:
            if workflow.patched(baseline_id):
                self._folded = folded
                break

    def patched(self, patch_id: str) -> bool:
        if patch_id in self._folded:
            return True
        return workflow.patched(patch_id)
