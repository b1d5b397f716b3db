"""The decisions above the case: the higher level's approval and the standing-committee vote."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import DATE_LABELS, CaseBookBase, Happening
from workflows.rules import eligibility, vote
from workflows.rules.dates import check_not_before
from workflows.rules.errors import RuleViolation
from workflows.types import (
    CandidateState,
    CandidateStatus,
    CaseStage,
    CaseStatus,
    HigherApprovalInput,
    VoteInput,
    VoteResult,
)


class DecisionRules(CaseBookBase):
    """Higher-level approval (破格提拔) and the committee vote."""

    # ------------------------------------------------------------------ higher-level approval

    def _awaiting_approval(self) -> list[CandidateState]:
        if self.state.stage is CaseStage.PRE_INSPECTION_APPROVAL:
            pool = self.with_status(CandidateStatus.IN_POOL)
            return [c for c in pool if c.needs_approval_before_inspection and c.approval is None]
        return [
            c
            for c in self.with_status(CandidateStatus.PROPOSED)
            if c.exceptional and c.approval is None
        ]

    def check_higher_approval(self, data: HigherApprovalInput, today: date) -> None:
        self._require_stage(CaseStage.PRE_INSPECTION_APPROVAL, CaseStage.HIGHER_APPROVAL)
        c = self.candidate(data.person_id)
        if c not in self._awaiting_approval():
            raise RuleViolation(
                f"no higher-level approval is awaited for {c.name}", "破格提拔 approval"
            )
        if self.state.stage is CaseStage.HIGHER_APPROVAL:
            after = "inspection_concluded"
        else:
            after = "interview" if "interview" in self.state.dates else "opened"
        self._check_date(data.replied_on, today, "the higher level's reply", after)

    def apply_higher_approval(self, data: HigherApprovalInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.approval = data.approved
        verdict = "approved" if data.approved else "refused"
        if not data.approved:
            c.status = CandidateStatus.APPROVAL_REFUSED
            c.note = f"the higher-level organization department refused ({data.reference})"
        self.state.dates["last_approval"] = max(
            data.replied_on, self.state.dates.get("last_approval", data.replied_on)
        )
        out = [
            self._input(
                data.actor,
                f"higher level {verdict} the exceptional promotion of {c.name} ({data.reference})",
                data,
            )
        ]
        if self._awaiting_approval():
            return out
        if self.state.stage is CaseStage.PRE_INSPECTION_APPROVAL:
            if len(self.with_status(CandidateStatus.IN_POOL)) < self.case.positions:
                return [
                    *out,
                    self._close(
                        CaseStatus.NOT_APPOINTED, "too few candidates left after approvals"
                    ),
                ]
            return [*out, self._move(CaseStage.INVESTIGATION_NOTICE, "approvals received")]
        if not self.with_status(CandidateStatus.PROPOSED):
            return [
                *out,
                self._close(CaseStatus.NOT_APPOINTED, "the higher level approved no candidate"),
            ]
        return [*out, self._move(CaseStage.VOTE, "approvals received")]

    # ------------------------------------------------------------------ vote

    def check_vote(self, data: VoteInput, today: date) -> None:
        self._require_stage(CaseStage.VOTE)
        m = data.meeting
        after = "last_meeting" if "last_meeting" in self.state.dates else "inspection_concluded"
        self._check_date(m.held_on, today, "the meeting", after)
        if "last_approval" in self.state.dates:
            check_not_before(
                m.held_on, self._date("last_approval"), "the meeting", DATE_LABELS["last_approval"]
            )
        vote.check_quorum(m.members, m.present)
        if self.case.recommendation is not None:
            eligibility.check_recommendation_valid(
                self.case.recommendation.held_on, m.held_on, self.policy.recommendation.valid_months
            )
        if not data.items:
            raise RuleViolation("a vote record needs at least one item", "逐一表决")
        seen: set[str] = set()
        for item in data.items:
            c = self.candidate(item.person_id)
            if item.person_id in seen:
                raise RuleViolation(f"{c.name} appears twice; each item once", "逐一表决")
            seen.add(item.person_id)
            if c.status not in (CandidateStatus.PROPOSED, CandidateStatus.DEFERRED):
                raise RuleViolation(
                    f"{c.name} is not before the committee ({c.status.value})", "讨论决定"
                )
            if c.exceptional and c.approval is not True:
                raise RuleViolation(
                    f"the exceptional promotion of {c.name} has no approval from the higher-level "
                    "organization department; it cannot go to the vote",
                    "破格提拔: approval before the vote",
                )
            vote.decide_item(m, item)

    def apply_vote(self, data: VoteInput, today: date) -> list[Happening]:
        m = data.meeting
        self.state.dates["last_meeting"] = m.held_on
        results = []
        for item in data.items:
            c = self.candidate(item.person_id)
            result = vote.decide_item(m, item)
            c.vote = result
            c.status = {
                VoteResult.PASSED: CandidateStatus.ON_NOTICE,
                VoteResult.FAILED: CandidateStatus.VOTE_FAILED,
                VoteResult.DEFERRED: CandidateStatus.DEFERRED,
            }[result]
            c.note = (
                f"deferred: {item.deferred_reason}"
                if result is VoteResult.DEFERRED
                else vote.describe_result(m, item, result)
            )
            results.append(f"{c.name}: {c.note}")
        out = [
            self._input(
                data.actor,
                f"meeting {m.meeting_id} on {m.held_on} ({m.present} of {m.members} present, "
                f"{m.method.value}): " + "; ".join(results),
                data,
            )
        ]
        if self.with_status(CandidateStatus.PROPOSED, CandidateStatus.DEFERRED):
            return out
        if self.with_status(CandidateStatus.ON_NOTICE):
            return [*out, self._move(CaseStage.PUBLIC_NOTICE, "the committee decided")]
        return [
            *out,
            self._close(CaseStatus.NOT_APPOINTED, "the standing committee passed no candidate"),
        ]
