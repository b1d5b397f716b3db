"""The decisions above the case: the higher level's approval and the standing-committee vote."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening, status_refusal
from workflows.case_book.relationships import check_recorder
from workflows.glossary import date_label, zh
from workflows.rules import recusal, vote
from workflows.rules.dates import check_not_before, check_not_future
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

RULE_APPROVAL = "exceptional.approval"


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
            raise RuleViolation(f"{c.name}没有待上级审批的事项", RULE_APPROVAL)
        check_recorder(self.state, data.actor, [c], "record_higher_approval")
        if self.state.stage is CaseStage.HIGHER_APPROVAL:
            after = "inspection_concluded"
        else:
            after = "interview" if "interview" in self.state.dates else "opened"
        self._check_date(data.replied_on, today, date_label("last_approval"), after)

    def apply_higher_approval(self, data: HigherApprovalInput, today: date) -> list[Happening]:
        c = self.candidate(data.person_id)
        c.approval = data.approved
        verdict = "同意" if data.approved else "不同意"
        if not data.approved:
            c.status = CandidateStatus.APPROVAL_REFUSED
            c.note = f"上级组织部门不同意（{data.reference}）"
        self.state.dates["last_approval"] = max(
            data.replied_on, self.state.dates.get("last_approval", data.replied_on)
        )
        out = [
            self._input(
                data.actor,
                f"上级组织部门{verdict}对{c.name}的破格提拔（{data.reference}）",
                data,
            )
        ]
        if self._awaiting_approval():
            return out
        if self.state.stage is CaseStage.PRE_INSPECTION_APPROVAL:
            if len(self.with_status(CandidateStatus.IN_POOL)) < self.case.positions:
                return [
                    *out,
                    self._close(CaseStatus.NOT_APPOINTED, "上级审批后剩余人选少于拟任职数"),
                ]
            return [*out, self._move(CaseStage.INVESTIGATION_NOTICE, "已收到上级批复")]
        if not self.with_status(CandidateStatus.PROPOSED):
            return [
                *out,
                self._close(CaseStatus.NOT_APPOINTED, "上级组织部门未同意任何人选"),
            ]
        return [*out, self._move(CaseStage.VOTE, "已收到上级批复")]

    # ------------------------------------------------------------------ vote

    def check_vote(self, data: VoteInput, today: date) -> None:
        self._require_stage(CaseStage.VOTE)
        m = data.meeting
        meeting = date_label("last_meeting")
        if "last_meeting" in self.state.dates:  # a vote again, after a deferral
            check_not_future(m.held_on, today, meeting)
            check_not_before(m.held_on, self._date("last_meeting"), meeting, f"上次{meeting}")
        else:
            self._check_date(m.held_on, today, meeting, "inspection_concluded")
        if "last_approval" in self.state.dates:
            check_not_before(
                m.held_on, self._date("last_approval"), meeting, date_label("last_approval")
            )
        vote.check_quorum(m.members, m.present)
        self._check_recommendation(m.held_on)
        if not data.items:
            raise RuleViolation("表决记录至少须有一项", vote.RULE_TALLY)
        seen: set[str] = set()
        for item in data.items:
            c = self.candidate(item.person_id)
            if item.person_id in seen:
                raise RuleViolation(f"{c.name}重复出现；每项只表决一次", vote.RULE_TALLY)
            seen.add(item.person_id)
            if c.status not in (CandidateStatus.PROPOSED, CandidateStatus.DEFERRED):
                raise RuleViolation(
                    status_refusal(c.name, "不是提交常委会的人选", c.status), "vote.subject"
                )
            if c.exceptional and c.approval is not True:
                raise RuleViolation(
                    f"对{c.name}的破格提拔尚未得到上级组织部门同意，不能提交常委会表决",
                    RULE_APPROVAL,
                )
            self._check_eligible(
                m.held_on, "last_meeting", "提交常委会表决", [c], data.register_readings
            )
            # a member related to the candidate, present, is recorded as withdrawn
            recusal.check_item_recusal(m, item, c.name, self.state.relationships)
            vote.decide_item(m, item)
        voted = [self.candidate(item.person_id) for item in data.items]
        check_recorder(self.state, data.actor, voted, "record_vote")

    def apply_vote(self, data: VoteInput, today: date) -> list[Happening]:
        m = data.meeting
        voted = {item.person_id for item in data.items}
        register = self._take_register(data.register_readings, voted, m.held_on)
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
            c.note = vote.describe_result(m, item, result)
            results.append(f"{c.name}：{c.note}")
        out = [
            *register,
            self._input(
                data.actor,
                f"常委会会议 {m.meeting_id}（{m.held_on}，应到 {m.members} 人，"
                f"实到 {m.present} 人，{zh(m.method)}）：" + "；".join(results),
                data,
            ),
        ]
        if self.with_status(CandidateStatus.PROPOSED, CandidateStatus.DEFERRED):
            return out
        if self.with_status(CandidateStatus.ON_NOTICE):
            return [*out, self._move(CaseStage.PUBLIC_NOTICE, "常委会已作出决定")]
        return [*out, self._close(CaseStatus.NOT_APPOINTED, "常委会未通过任何人选")]
