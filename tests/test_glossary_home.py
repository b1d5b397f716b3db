"""The living glossary is the one home of the Chinese names: no other module of the service
writes a stage, a status, a method or a role by its Chinese name as a string of its own.

The dossier's frozen glossary (``audit.glossary``) is the one allowed second copy: a dossier
must verify with the names it was written with, whatever the living names become.
"""

from __future__ import annotations

import ast
from pathlib import Path

from workflows import glossary

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {ROOT / "workflows" / "glossary.py", ROOT / "audit" / "glossary.py"}
PACKAGES = (
    "workflows",
    "activities",
    "audit",
    "api",
    "web",
    "starter",
    "gateway",
    "store",
    "sheets",
)

NAMES = {
    name
    for table in (
        glossary.STAGES,
        glossary.STATUSES,
        glossary.METHODS,
        glossary.ROLES,
        glossary.PROBATION_STATUSES,
        glossary.REVIEW_STATUSES,
        glossary.DIGEST_KINDS,
    )
    for name in table.values()
    if name != "系统"  # also the name the workflows sign their own entries with
}


def modules() -> list[Path]:
    found = [ROOT / "worker.py", ROOT / "settings.py"]
    for package in PACKAGES:
        found += sorted((ROOT / package).rglob("*.py"))
    return [p for p in found if p not in ALLOWED]


def literals(path: Path) -> set[str]:
    """The module's string constants, less the rules a refusal cites (a rule's name, such as
    任前公示, is the regulation's word, not a label) and the steps' titles in the step table,
    their one home (the vote's step and the vote's stage share a name)."""
    tree = ast.parse(path.read_text("utf-8"))
    cited = {
        id(call.args[1])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in ("RuleViolation", "CaseStep")
        and len(call.args) > 1
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in cited
    }


def test_the_names_live_only_in_the_glossaries() -> None:
    paths = modules()
    assert len(paths) > 50, "the scan found too few modules: the layout changed"
    copies = {f"{p.relative_to(ROOT)}: {name}" for p in paths for name in literals(p) & NAMES}
    assert not copies, sorted(copies)


def test_the_scan_would_see_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "copy.py"
    copy.write_text('LABEL = {"vote": "常委会票决"}\n', "utf-8")
    assert "常委会票决" in literals(copy) & NAMES


def test_the_cli_and_the_pages_name_a_stage_alike() -> None:
    from starter.cli_base import stage_text
    from workflows.types import CaseStage

    assert stage_text(CaseStage.CLOSED) == f"closed ({glossary.zh(CaseStage.CLOSED)})"
    assert stage_text(CaseStage.INSPECTION) == "inspection (差额考察)"


def test_a_cited_rule_is_not_a_copy(tmp_path: Path) -> None:
    rule = tmp_path / "rule.py"
    rule.write_text('raise RuleViolation("already published", "任前公示")\n', "utf-8")
    assert not literals(rule) & NAMES


def test_step_titles_come_from_the_step_table() -> None:
    from workflows.steps import CASE_STEPS

    assert dict(glossary.STEPS) == {u: s.title for u, s in CASE_STEPS.items()}
    assert all(s.title and s.title.isascii() is False for s in CASE_STEPS.values())
