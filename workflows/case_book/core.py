"""The core of a case book: its state, its constructor and the helpers every stage uses.

``CaseBookBase`` holds the case (its input, policy, people and ``CaseState``); the stage
modules add their rules to it as mixins. Also here: the ``Happening`` a rule returns for the
workflow to record, and ``check_case_input``, the check of a case file before it opens.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Self

from workflows.glossary import date_label, field_label, zh
from workflows.policy import Policy, PolicySnapshot
from workflows.rules import eligibility
from workflows.rules.dates import check_not_before, check_not_future
from workflows.rules.errors import RuleViolation
from workflows.rules.register_facts import changed_facts, unread_register, with_register_facts
from workflows.types import (
    EXAM_METHODS,
    Actor,
    Candidate,
    CandidateState,
    CandidateStatus,
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    RegisterReading,
    Role,
    SelectionMethod,
)

SYSTEM_ACTOR = Actor(name="system", role=Role.SYSTEM)

# Statuses of a candidate who was on the pre-appointment notice and is not yet appointed.
ON_OR_AFTER_NOTICE = (
    CandidateStatus.ON_NOTICE,
    CandidateStatus.TO_APPOINT,
    CandidateStatus.SUSPENDED,
    CandidateStatus.NOT_APPOINTED,
)

# Rule codes of the case's own procedure (their sources: ``workflows.rules.sources``).
RULE_CASE = "case.state"
RULE_STAGE_ORDER = "case.stage_order"
RULE_CASE_FILE = "case.file"


def names(people: list[str]) -> str:
    """Names in a sentence, as Chinese lists them: 张三、李四."""
    return "、".join(people)


def stage_refusal(
    case_id: str, status: CaseStatus, stage: CaseStage, wanted: tuple[CaseStage, ...]
) -> str:
    """Why a step cannot be taken at the case's stage (or on a closed case)."""
    if status is not CaseStatus.ACTIVE:
        return f"案件 {case_id} 已结案（{zh(status)}）"
    allowed = "」或「".join(zh(s) for s in wanted)
    return f"案件 {case_id} 正处于「{zh(stage)}」环节；此项办理属于「{allowed}」环节"


def status_refusal(name: str, what: str, status: CandidateStatus) -> str:
    """Why a step cannot be taken for a candidate in ``status``: "张三不在考察中（已考察）"."""
    return f"{name}{what}（{zh(status)}）"


def check_case_input(case: CaseInput, today: date, recommendation_valid_months: int) -> None:
    """Refuse a case that cannot start; called by the starter and again by the workflow."""
    ids = [c.person_id for c in case.candidates]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuleViolation(f"人选编号不能重复；重复的有：{names(duplicates)}", RULE_CASE_FILE)
    check_register_read(case.candidates)
    if case.opened_on is not None:
        check_not_future(case.opened_on, today, date_label("opened"))
    if case.method in EXAM_METHODS:
        if case.candidates:
            raise RuleViolation(
                f"选拔方式为{zh(case.method)}的案件，人选由考试报名产生；案件材料中不应列出人选",
                "case.method",
            )
        return
    regular = zh(SelectionMethod.REGULAR_APPOINTMENT)
    if case.recommendation is None:
        raise RuleViolation(
            f"选拔方式为{regular}的案件，须写明人选所经的民主推荐及其日期",
            "recommendation.required",
        )
    if not case.candidates:
        raise RuleViolation(f"选拔方式为{regular}的案件至少须有一名人选", RULE_CASE_FILE)
    check_not_future(case.recommendation.held_on, today, field_label("recommendation"))
    # stale when the case opens (a case brought in later is judged on its own dates); the
    # vote checks the year again against the meeting's date
    eligibility.check_recommendation_valid(
        case.recommendation.held_on, case.opened_on or today, recommendation_valid_months
    )


def check_register_read(candidates: list[Candidate]) -> None:
    """Candidates named by the register come with the facts read from it (every door reads
    them); one without is refused, never judged on facts nobody read."""
    unread = unread_register(candidates)
    if unread:
        raise RuleViolation(
            f"人选{names(unread)}引用了干部名册，但其信息未从名册读取；"
            "请通过立案的页面、命令或接口立案，由其读取名册",
            RULE_CASE_FILE,
        )


@dataclass(frozen=True)
class Happening:
    """Something to record in the case history."""

    kind: str  # input, transition, closed, ...
    summary: str
    actor: Actor = field(default_factory=lambda: SYSTEM_ACTOR)
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # 代理: whom the actor acted for is part of what the chained record proves
        if self.actor.on_behalf_of is not None:
            self.payload.setdefault("on_behalf_of", self.actor.on_behalf_of)


class CaseBookBase:
    """One case: its state (``self.state``), the people in it and the shared helpers."""

    def __init__(self, case: CaseInput, snapshot: PolicySnapshot, today: date) -> None:
        self.case = case
        self.snapshot = snapshot
        self.policy: Policy = snapshot.policy
        self.people: dict[str, Candidate] = {c.person_id: c for c in case.candidates}
        opened_on = case.opened_on or today
        regular = case.method is SelectionMethod.REGULAR_APPOINTMENT
        self.state = CaseState(
            case_id=case.case_id,
            unit=case.unit,
            post=case.post,
            positions=case.positions,
            method=case.method,
            stage=CaseStage.INVESTIGATION_NOTICE if regular else CaseStage.EXAM,
            status=CaseStatus.ACTIVE,
            probation_required=case.probation_required,
            economic_audit_required=case.economic_audit_required,
            policy_version=self.policy.version,
            policy_digest=snapshot.digest,
            opened_on=opened_on,
            candidates=[self._new_candidate(c, CandidateStatus.IN_POOL) for c in case.candidates],
            dates={"opened": opened_on},
        )

    @classmethod
    def resumed(
        cls, case: CaseInput, snapshot: PolicySnapshot, people: list[Candidate], state: CaseState
    ) -> Self:
        """The case as a run before left it (``workflows.case_carry``)."""
        book = cls(case, snapshot, state.opened_on)
        book.people = {p.person_id: p for p in people}
        book.state = state
        return book

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _new_candidate(c: Candidate, status: CandidateStatus) -> CandidateState:
        return CandidateState(
            person_id=c.person_id,
            name=c.name,
            status=status,
            exceptional=c.exceptional is not None,
            needs_approval_before_inspection=eligibility.needs_approval_before_inspection(c),
            register_id=c.register_id,
            register_version=c.register_version,
        )

    @property
    def active(self) -> bool:
        return self.state.status is CaseStatus.ACTIVE

    def candidate(self, person_id: str) -> CandidateState:
        for c in self.state.candidates:
            if c.person_id == person_id:
                return c
        raise RuleViolation(f"{person_id} 不是案件 {self.case.case_id} 的人选", RULE_CASE)

    def with_status(self, *statuses: CandidateStatus) -> list[CandidateState]:
        return [c for c in self.state.candidates if c.status in statuses]

    def _require_stage(self, *stages: CaseStage) -> None:
        s = self.state
        if not self.active:
            raise RuleViolation(stage_refusal(s.case_id, s.status, s.stage, stages), RULE_CASE)
        if s.stage not in stages:
            raise RuleViolation(
                stage_refusal(s.case_id, s.status, s.stage, stages), RULE_STAGE_ORDER
            )

    def _date(self, key: str) -> date:
        return self.state.dates[key]

    def _check_date(self, d: date, today: date, what: str, after_key: str) -> None:
        """``d`` (of ``what``, in Chinese) is not in the future nor before the date
        ``after_key`` the case recorded."""
        check_not_future(d, today, what)
        check_not_before(d, self._date(after_key), what, date_label(after_key))

    def _check_eligible(
        self,
        on: date,
        act_key: str,
        refused: str,
        candidates: list[CandidateState],
        readings: Sequence[RegisterReading] = (),
    ) -> None:
        """Judge ``candidates`` again on ``on``, the recorded date of the act ``act_key``
        (考察开始, 常委会会议 …), never on the day the case is typed in; a candidate named by
        the register on the facts the register gave for that day (``readings``)."""
        people = self._facts(readings)
        eligibility.check_eligible_on(
            [people[c.person_id] for c in candidates],
            on,
            date_label(act_key),
            refused,
            self.policy.impact_months_all(),
            leading_post=self.case.leading_post,
        )

    def _facts(self, readings: Sequence[RegisterReading]) -> dict[str, Candidate]:
        """The candidates' facts with the register's ``readings`` taken in (without changing
        the case: a validator's view); a reading older than the version the case holds is
        refused (a stale read: the step is to be sent again)."""
        people = dict(self.people)
        for r in readings:
            held = people.get(r.person_id)
            if held is None or held.register_id is None:
                continue
            if held.register_version is not None and r.version < held.register_version:
                raise RuleViolation(
                    f"读取的干部名册是{held.name}的第 {r.version} 版，早于案件已有的第 "
                    f"{held.register_version} 版；请重新提交",
                    RULE_CASE,
                )
            people[r.person_id] = with_register_facts(held, r.candidate, r.version)
        return people

    def _take_register(
        self, readings: Sequence[RegisterReading], person_ids: Collection[str], on: date
    ) -> list[Happening]:
        """The register's ``readings`` of the candidates a step judges (``person_ids``) taken
        into the case, each change recorded (名册已更新) before the step uses it: a register
        change never alters a running case silently."""
        out = []
        for r in readings:
            held = self.people.get(r.person_id)
            if r.person_id not in person_ids or held is None or held.register_id is None:
                continue
            now = with_register_facts(held, r.candidate, r.version)
            changed = changed_facts(held, now)
            if r.version == held.register_version and not changed:
                continue
            self.people[r.person_id] = now
            self.candidate(r.person_id).register_version = r.version
            facts = "、".join(changed) if changed else "与本案件相关的信息无变化"
            if r.version != held.register_version:
                what = f"名册已更新：{held.name}（{held.register_id}）由第 {held.register_version} "
                what += f"版更新为第 {r.version} 版"
            else:
                what = f"名册信息（{held.name}，{held.register_id} 第 {r.version} 版）"
            out.append(
                Happening(
                    "register_updated",
                    f"{what}，截至 {on}：{facts}；此后按第 {r.version} 版办理",
                    payload={
                        "person_id": r.person_id,
                        "register_id": held.register_id,
                        "from_version": held.register_version,
                        "to_version": r.version,
                        "as_of": on.isoformat(),
                        "changed": changed,
                        "candidate": now.model_dump(mode="json"),
                    },
                )
            )
        return out

    def _check_recommendation(self, on: date) -> None:
        """The democratic recommendation is still valid on ``on`` (an act's date)."""
        if self.case.recommendation is not None:
            eligibility.check_recommendation_valid(
                self.case.recommendation.held_on, on, self.policy.recommendation.valid_months
            )

    def _move(self, stage: CaseStage, why: str) -> Happening:
        before = self.state.stage
        self.state.stage = stage
        return Happening(
            "transition",
            f"由「{zh(before)}」转入「{zh(stage)}」：{why}",
            payload={"from": before.value, "to": stage.value},
        )

    def _close(self, status: CaseStatus, reason: str, actor: Actor = SYSTEM_ACTOR) -> Happening:
        before = self.state.stage
        self.state.stage = CaseStage.CLOSED
        self.state.status = status
        self.state.outcome_reason = reason
        self.state.step = None
        return Happening(
            "closed",
            f"结案（{zh(status)}）：{reason}",
            actor,
            {"from": before.value, "status": status.value, "reason": reason},
        )

    @staticmethod
    def _input(actor: Actor, summary: str, data: Any) -> Happening:
        # the register's readings are recorded as what they changed (名册已更新), not again
        payload = data.model_dump(mode="json", exclude={"actor", "register_readings"})
        return Happening("input", summary, actor, payload)

    @property
    def _notice_over(self) -> bool:
        return "notice_over" in self.state.dates

    if TYPE_CHECKING:
        # Provided by the stage mixins, called across stages.
        def enter_inspection_phase(self, today: date) -> list[Happening]: ...  # inspection

        def _awaiting_approval(self) -> list[CandidateState]: ...  # decisions

        def _after_notice(self) -> list[Happening]: ...  # notice

        def _close_appointed(self) -> Happening: ...  # appointment
