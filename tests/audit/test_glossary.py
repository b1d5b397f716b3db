"""The dossier's glossary is the audit trail's own and cannot be changed from elsewhere."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from audit import dossier
from audit.dossier import html_format
from audit.glossary import KIND_LABELS, STAGE_LABELS, STATUS_LABELS
from workflows.types import CaseStage, CaseStatus


def test_every_stage_and_status_has_its_dossier_name() -> None:
    # a new stage or status needs a new dossier format version with a glossary of its own
    assert set(STAGE_LABELS) == {s.value for s in CaseStage}
    assert set(STATUS_LABELS) == {s.value for s in CaseStatus}


def test_the_names_dossiers_were_made_with_stay_as_they_were() -> None:
    assert STAGE_LABELS["closed"] == "已结束" and STAGE_LABELS["vote"] == "常委会票决"
    assert STATUS_LABELS["active"] == "办理中" and KIND_LABELS["closed"] == "结案"


def test_the_glossary_cannot_be_edited_at_run_time() -> None:
    with pytest.raises(TypeError):
        STAGE_LABELS["vote"] = "表决"  # type: ignore[index]


def test_the_dossier_takes_its_names_from_the_glossary_only() -> None:
    assert html_format.STAGE_LABELS is STAGE_LABELS
    modules = [dossier] + [
        importlib.import_module(f"audit.dossier.{m.name}")
        for m in pkgutil.iter_modules(dossier.__path__)
    ]
    assert not [name for m in modules for name in vars(m) if name.startswith("starter")]
