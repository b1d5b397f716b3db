"""A case's dossier (案件审计档案) for auditors: JSON, CSV and a printable HTML page.

Each format carries what an auditor needs to check it offline with one command and the
public key (``appointments audit verify-dossier FILE --public-key KEY.pub.pem``):

- every event of the case, in chain order, with ``prev_hash`` and ``hash``;
- every event of the probations of the case's appointees (``probations``), each probation's
  chain in chain order, with its hashes;
- the newest signed checkpoint that covers the case: its root, signature, key id and version,
  the case's head in it and each probation's, each with its Merkle inclusion proof and, in
  JSON, the heads of every chain, so the root can also be recomputed from scratch;
- what the case was and became (``case``), the policy version it ran under (from its "opened"
  event) and, for every deadline, the calendar data that produced it (``deadlines``).

What proves what. The events are proven by their chains, the chains' heads by the checkpoint,
the checkpoint by its signature. ``case``, ``policy`` and ``deadlines`` are derived from the
case's events alone (not from the mutable ``cases`` table), so the verifier derives them again
and compares; and every probation the case's events say it started must be in the dossier. The
CSV and HTML files are presentations: the verifier rebuilds the dossier from them (the CSV's
rows, the JSON embedded in the HTML page), checks it, renders it again and compares the whole
file, so no byte of what a reader sees can change unnoticed. Not evidence: ``exported_at`` and
the database's own ``id`` and ``recorded_at`` of each event.

Formats. Dossiers of format v1 were exported before probations were chained: no
``probations``, a checkpoint of version 1, CSV without the ``probation_id`` and
``checkpoint_version`` columns. They still verify, and are rendered again exactly as they were
written; a v1 dossier cannot carry a checkpoint of version 2, so probations cannot be dropped
from a new dossier by calling it an old one. So do those of v2 to v4 (``spec``). From v5 a
dossier says what its chain records (``case.chain``: an appointment case, or the register's,
a capability test's, ... audit chain, each derived from the chain's id, which every event
carries under its hash), and its page is headed by that kind.

The package, a module to a job: ``spec`` (format names, recipes, DossierError), ``events``
(an event written and read back, the sections derived from the events), ``build`` (the
dossier from the database), ``coverage`` (what the checkpoint vouches for), ``json_format``,
``csv_format`` and ``html_format`` (each format rendered and parsed back), ``formats`` (any
of them by name) and ``verify`` (the offline check).
"""

from audit.dossier.build import build_dossier
from audit.dossier.coverage import covered_through, uncovered
from audit.dossier.events import derived_sections, event_from_json
from audit.dossier.formats import render, write
from audit.dossier.html_format import dossier_from_html
from audit.dossier.spec import (
    DOSSIER_FORMAT,
    DOSSIER_FORMAT_V1,
    DOSSIER_FORMAT_V2,
    DOSSIER_FORMAT_V3,
    DOSSIER_FORMAT_V4,
    FORMATS,
    DossierError,
)
from audit.dossier.verify import DossierReport, verify_dossier_data, verify_dossier_file

__all__ = [
    "DOSSIER_FORMAT",
    "DOSSIER_FORMAT_V1",
    "DOSSIER_FORMAT_V2",
    "DOSSIER_FORMAT_V3",
    "DOSSIER_FORMAT_V4",
    "FORMATS",
    "DossierError",
    "DossierReport",
    "build_dossier",
    "covered_through",
    "derived_sections",
    "dossier_from_html",
    "event_from_json",
    "render",
    "uncovered",
    "verify_dossier_data",
    "verify_dossier_file",
    "write",
]
