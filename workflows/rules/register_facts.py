"""A person's register record as the eligibility facts of a case, as of a day.

A case judges its candidates on its own dates (``rules.eligibility``); what it needs of a
candidate is a ``Candidate``. This turns the register's record into one, as the record
stood on ``on``: only posts begun by then, the post held that day (a post whose last day was
the day before is no longer held), sanctions decided by then (their impact periods are the
eligibility rule's to judge), the probation of the post held if it runs on ``on``, and the
last promotion begun by then.
"""

from __future__ import annotations

from datetime import date

from workflows.glossary import field_label
from workflows.register_types import PersonRecord, PostHeld
from workflows.types import Candidate


def held_on(post: PostHeld, on: date) -> bool:
    """Whether ``post`` is held on ``on``: from its first day to its last, both included."""
    return post.started_on <= on and (post.ended_on is None or on <= post.ended_on)


def posts_held(record: PersonRecord, on: date) -> list[PostHeld]:
    """The posts held on ``on``, the most recently begun first."""
    return sorted(
        (p for p in record.posts if held_on(p, on)), key=lambda p: p.started_on, reverse=True
    )


def post_title(post: PostHeld) -> str:
    return f"{post.unit}{post.post}"


def candidate_as_of(record: PersonRecord, on: date, *, promotion: bool = True) -> Candidate:
    """The candidate's facts on ``on`` from the register; ``promotion`` is the case's (whether
    the post to fill is higher than the present one), not the register's."""
    person = record.person
    held = posts_held(record, on)
    current = held[0] if held else None
    promotions = [p.started_on for p in record.posts if p.promotion and p.started_on <= on]
    on_probation = any(
        p.probation_ends_on is not None and p.started_on <= on <= p.probation_ends_on for p in held
    )
    return Candidate(
        person_id=person.person_id,
        name=person.name,
        sex=person.sex,
        ethnicity=person.ethnicity,
        birth_date=person.birth_date,
        party_member=person.party_member,
        education=person.education,
        work_started_on=person.work_started_on,
        current_post=post_title(current) if current else "",
        current_rank=current.rank if current else "",
        sanctions=sorted(
            (s for s in record.sanctions if s.decided_on <= on), key=lambda s: s.decided_on
        ),
        on_probation=on_probation,
        last_promotion_on=max(promotions, default=None),
        promotion=promotion,
    )


# --------------------------------------------------------------------------- a case's candidate

# The facts of a candidate the register gives (``candidate_as_of``); the others (the short
# CV, an exceptional promotion, whether the post is a promotion) are the case's own.
REGISTER_FACTS = (
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "party_member",
    "education",
    "work_started_on",
    "current_post",
    "current_rank",
    "sanctions",
    "on_probation",
    "last_promotion_on",
)


def _fact(candidate: Candidate, name: str) -> object:
    value = getattr(candidate, name)
    if name == "sanctions":  # the same sanctions in any order
        return sorted((s.decided_on, s.kind.value, s.rights_restored_on) for s in value)
    return value


def _shown(value: object) -> str:
    if value is None or value == "":
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "；".join(f"{kind}:{decided}" for decided, kind, _ in value) or "无"
    return str(value)


def register_contradictions(typed: Candidate, register: Candidate, version: int) -> list[str]:
    """Each fact typed in for a candidate named by the register that the register (version
    ``version``, as of the case's day) says otherwise, in Chinese; [] when none. The person
    who typed it is told, and the case does not start: the register is the record, and a
    difference is either a typing error or a register to correct first."""
    out = []
    if typed.person_id != register.person_id:
        out.append(
            f"人选 {typed.name} 的人员编号 {typed.person_id} 与名册编号 {register.person_id} "
            "不一致（引用名册的人选，人员编号即名册编号，可不填）"
        )
    for name in REGISTER_FACTS:
        if name not in typed.model_fields_set:
            continue
        mine, theirs = _fact(typed, name), _fact(register, name)
        if mine != theirs:
            out.append(
                f"人选 {typed.name}（{register.person_id}）的「{field_label(name)}」"
                f"与干部名册第 {version} 版不符：录入为 {_shown(mine)}，名册为 {_shown(theirs)}"
                "（引用名册的人选，这些信息取自名册，无须录入；如名册有误，请先更正名册）"
            )
    return out


def with_register_facts(held: Candidate, read: Candidate, version: int) -> Candidate:
    """``held`` (a case's candidate) with the register's facts ``read`` and its version: the
    case's own fields stay as the case has them."""
    facts = {name: getattr(read, name) for name in REGISTER_FACTS}
    return held.model_copy(update={**facts, "register_version": version})


def changed_facts(before: Candidate, after: Candidate) -> list[str]:
    """The Chinese labels of the register's facts that differ between the two."""
    return [
        field_label(name) for name in REGISTER_FACTS if _fact(before, name) != _fact(after, name)
    ]


def unread_register(candidates: list[Candidate]) -> list[str]:
    """The names of candidates named by the register whose facts were not read from it (no
    version): a case file sent past the doors, which always read the register."""
    return [c.name for c in candidates if c.register_id is not None and c.register_version is None]


def register_sources(candidates: list[Candidate]) -> str:
    """Which register version each candidate's facts came from, as a case's record says it
    ("张三（R1）第 2 版、李四（R2）第 1 版"); "" when none came from the register."""
    return "、".join(
        f"{c.name}（{c.register_id}）第 {c.register_version} 版"
        for c in candidates
        if c.register_id is not None
    )
