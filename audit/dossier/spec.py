"""What every part of a dossier agrees on: its format names, the recipes it states for the
verifier, the command that verifies it, and the error of a dossier that cannot be read."""

from __future__ import annotations

from audit.merkle import MERKLE_RECIPE, MERKLE_RECIPE_V2
from audit.statement import LINKED_VERSIONS, statement_prefix

# v1: a case's events; v2: and the probations it started, with their chains; v3: as v2, and
# its CSV shows every cell as text in a spreadsheet (``csv_format``), saying so in a column;
# v4: as v3, and the checkpoint's link to the one before it (checkpoints of version 3 sign
# it), in a column of its own in the CSV; v5: as v4, and the kind of chain it is of (its
# ``case`` section's ``chain``, from the chain's id: an appointment case or an audit chain
# that is not), its HTML in the names of the v5 glossary (``audit.glossary``: the event kinds
# recorded since, each name alone) with a chain that is not a case headed by its kind. A
# dossier of each is read and verified as it was written.
DOSSIER_FORMAT_V1 = "cadre-appointments/audit-dossier/v1"
DOSSIER_FORMAT_V2 = "cadre-appointments/audit-dossier/v2"
DOSSIER_FORMAT_V3 = "cadre-appointments/audit-dossier/v3"
DOSSIER_FORMAT_V4 = "cadre-appointments/audit-dossier/v4"
DOSSIER_FORMAT = "cadre-appointments/audit-dossier/v5"
DOSSIER_FORMATS = (
    DOSSIER_FORMAT_V1,
    DOSSIER_FORMAT_V2,
    DOSSIER_FORMAT_V3,
    DOSSIER_FORMAT_V4,
    DOSSIER_FORMAT,
)
# the formats whose dossier says the kind of chain it is of
WITH_CHAIN_KIND = frozenset({DOSSIER_FORMAT})
FORMATS = ("json", "csv", "html")
VERIFY_COMMAND = "appointments audit verify-dossier FILE --public-key PUBLIC_KEY.pem"


def signature_recipe(version: int) -> str:
    fields = "created_at, event_count, key_id, merkle_root"
    if version in LINKED_VERSIONS:
        fields += (
            ", number (the checkpoint's id), previous ({number, digest} of the checkpoint "
            "before it, digest = sha256 of its statement; null for the first)"
        )
    return (
        "Ed25519 over "
        + repr(statement_prefix(version).decode())
        + " + canonical JSON of {"
        + fields
        + "}"
    )


SIGNATURE_RECIPE = signature_recipe(1)
MERKLE_RECIPES = {1: MERKLE_RECIPE, 2: MERKLE_RECIPE_V2, 3: MERKLE_RECIPE_V2}


class DossierError(ValueError):
    """A dossier that cannot even be read as one."""
