"""The rows of the double evaluation's two imported tallies (双重考核的两张测评表), which are
not a workflow's input as they stand: the doors read one sheet of each evaluation and join
them by person into ``LeaderTallies`` (``sheets.cadre_imports``). A capability test's
results are read straight into ``CapabilityResult``, the campaign's own rows."""

from __future__ import annotations

from pydantic import Field

from workflows.double_evaluation_types import TallyInput
from workflows.types import ID_MAX, ID_PATTERN, Line


class UnifiedTallyRow(TallyInput):
    """A principal leader and his tally in the county's unified evaluation (统一民主测评):
    the sheet that names the leaders."""

    person_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    name: Line = Field(min_length=1, max_length=100)
    unit: Line = Field(min_length=1, max_length=200)
    post: Line = Field(min_length=1, max_length=200)


class OwnTallyRow(TallyInput):
    """The same leader's tally in his own unit's annual evaluation (本单位民主测评), by his
    person id."""

    person_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
