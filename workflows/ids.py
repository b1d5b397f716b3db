"""Workflow IDs derived from business keys, so a case, or an appointee's probation, can never
be started twice, and no two keys share one ID.

A case's ID holds one key after a fixed prefix: one key, one ID. A probation's holds two,
the case and the person, and either may contain ``-``: the first probations were named
``probation-<case>-<person>``, so case ``A-B``/person ``1`` and case ``A``/person ``B-1``
shared ``probation-A-B-1``. Probations are now named ``probation:<case>:<person>`` with
``%`` and ``:`` percent-escaped in each key: the ``:`` between them can then only be the
separator, so the ID reads back as exactly one pair, and it cannot equal any old ID (those
begin ``probation-``). Ordinary keys read as they are: ``probation:C-1:P7``.

Probations started under an old ID keep it for life (a year and the review's ladder; a
continue-as-new keeps the ID): ``legacy_probation_workflow_id`` names it, the probation
workflow accepts either (``probation_id_accepted``), the case workflow starts children
under the new ID only from the patch ``unambiguous-probation-id`` on, and the front ends
find an old probation through ``gateway.probations``.
"""

from workflows.types import ChainKind

CASE_WORKFLOW_PREFIX = "appointment-case-"
PROBATION_WORKFLOW_PREFIX = "probation:"
LEGACY_PROBATION_WORKFLOW_PREFIX = "probation-"


def case_workflow_id(case_id: str) -> str:
    return f"{CASE_WORKFLOW_PREFIX}{case_id}"


def _escaped(key: str) -> str:
    return key.replace("%", "%25").replace(":", "%3A")


def probation_workflow_id(case_id: str, person_id: str) -> str:
    """One probation per appointee of a case, so it can never run twice; one ID per pair."""
    return f"{PROBATION_WORKFLOW_PREFIX}{_escaped(case_id)}:{_escaped(person_id)}"


def legacy_probation_workflow_id(case_id: str, person_id: str) -> str:
    """The ID probations were started under before: ambiguous when a key holds ``-``."""
    return f"{LEGACY_PROBATION_WORKFLOW_PREFIX}{case_id}-{person_id}"


def probation_id_accepted(workflow_id: str, case_id: str, person_id: str) -> bool:
    """Whether a probation of (case, person) may run under ``workflow_id``: the current ID,
    or the old one it was started under before IDs were made unambiguous."""
    return workflow_id in (
        probation_workflow_id(case_id, person_id),
        legacy_probation_workflow_id(case_id, person_id),
    )


# The cadre workflows (capability test, double evaluation): each ID is also the id of the
# workflow's audit chain (``workflows.cadre_records``). Appointment case ids never hold ``:``,
# so none of these can be a case's; keys are escaped as a probation's are.
CAPABILITY_PREFIX = "capability:"
DOUBLE_EVALUATION_PREFIX = "double-evaluation:"
REMOVAL_PREFIX = "removal:"
ROTATION_BATCH_PREFIX = "rotation-batch:"


def capability_campaign_workflow_id(campaign_id: str) -> str:
    return f"{CAPABILITY_PREFIX}{_escaped(campaign_id)}"


def capability_retest_workflow_id(campaign_id: str, person_id: str) -> str:
    """One retest per cadre of a campaign, so it can never run twice."""
    return f"{CAPABILITY_PREFIX}{_escaped(campaign_id)}:{_escaped(person_id)}"


def double_evaluation_workflow_id(evaluation_id: str) -> str:
    return f"{DOUBLE_EVALUATION_PREFIX}{_escaped(evaluation_id)}"


def removal_case_workflow_id(evaluation_id: str, person_id: str) -> str:
    """One removal case per proposed leader of an evaluation."""
    return f"{REMOVAL_PREFIX}{_escaped(evaluation_id)}:{_escaped(person_id)}"


def rotation_batch_workflow_id(batch_id: str) -> str:
    """One workflow per rotation batch (交流批次), so a batch can never run twice."""
    return f"{ROTATION_BATCH_PREFIX}{_escaped(batch_id)}"


def chain_keys(workflow_id: str) -> list[str]:
    """The keys an ID of the escaped kinds above holds, in order, as they were given: the
    inverse of ``capability_retest_workflow_id`` and its kin (``probation:`` ones too)."""
    _, _, keys = workflow_id.partition(":")
    return [k.replace("%3A", ":").replace("%25", "%") for k in keys.split(":")]


# The cadre register's one chain (``store.register_audit``): no workflow's, but of the case
# kind as theirs are.
REGISTER_CHAIN_ID = "cadre-register"


def chain_kind_of(chain_id: str) -> ChainKind:
    """What a chain of the case kind records, from its id alone (a dossier says it offline
    from its events, each of which names its chain): the prefixes above, one key after a
    capability campaign's and two after a retest's, else an appointment case."""
    if chain_id == REGISTER_CHAIN_ID:
        return ChainKind.CADRE_REGISTER
    if chain_id.startswith(CAPABILITY_PREFIX):
        keys = chain_id.removeprefix(CAPABILITY_PREFIX).count(":") + 1
        return ChainKind.CAPABILITY_RETEST if keys == 2 else ChainKind.CAPABILITY_CAMPAIGN
    if chain_id.startswith(DOUBLE_EVALUATION_PREFIX):
        return ChainKind.DOUBLE_EVALUATION
    if chain_id.startswith(REMOVAL_PREFIX):
        return ChainKind.REMOVAL
    if chain_id.startswith(ROTATION_BATCH_PREFIX):
        return ChainKind.ROTATION_BATCH
    return ChainKind.APPOINTMENT
