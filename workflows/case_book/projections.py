"""What others see of a case: the public board's view of its notice and the listing row."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from workflows.case_book.awaited import AwaitedStep
from workflows.case_book.core import ON_OR_AFTER_NOTICE, CaseBookBase
from workflows.types import (
    CandidateStatus,
    CaseRow,
    CaseStage,
    NoticeKind,
    PublicNoticeView,
    PublishedPerson,
)


class Projections(CaseBookBase):
    """Read-only views of the state; they change nothing."""

    def public_notice(self) -> PublicNoticeView | None:
        """The notice this case has before the public now, if any: the investigation notice
        (考察预告) while its people are inspected, the pre-appointment notice (任前公示) from
        its publication until the case closes. Only the published fields are shown."""
        if not self.active:
            return None
        dates = self.state.dates
        if self.state.stage in (CaseStage.PUBLIC_NOTICE, CaseStage.APPOINTMENT):
            if "notice_published" not in dates:
                return None
            kind, published_on = NoticeKind.PRE_APPOINTMENT, dates["notice_published"]
            ends_on = dates.get("notice_ends")
            shown: tuple[CandidateStatus, ...] = (*ON_OR_AFTER_NOTICE, CandidateStatus.APPOINTED)
        elif self.state.stage is CaseStage.INSPECTION and "investigation_notice" in dates:
            kind, published_on = NoticeKind.INVESTIGATION, dates["investigation_notice"]
            ends_on = dates.get("inspection_concluded")
            shown = (CandidateStatus.IN_POOL, CandidateStatus.INSPECTED)
        else:
            return None
        return PublicNoticeView(
            case_id=self.case.case_id,
            unit=self.case.unit,
            proposed_post=self.case.post,
            kind=kind,
            published_on=published_on,
            ends_on=ends_on,
            people=[self._published(c.person_id) for c in self.with_status(*shown)],
        )

    def _published(self, person_id: str) -> PublishedPerson:
        p = self.people[person_id]
        return PublishedPerson(
            person_id=p.person_id,
            name=p.name,
            sex=p.sex,
            ethnicity=p.ethnicity,
            birth_date=p.birth_date,
            party_member=p.party_member,
            education=p.education,
            work_started_on=p.work_started_on,
            current_post=p.current_post,
            short_cv=p.short_cv,
            exceptional_reason=p.exceptional.reason if p.exceptional else "",
        )

    def case_row(self, next_deadline: datetime | None, overdue: bool) -> CaseRow:
        s = self.state
        return CaseRow(
            unit=s.unit,
            post=s.post,
            method=s.method,
            stage=s.stage,
            status=s.status,
            outcome_reason=s.outcome_reason,
            next_deadline=next_deadline,
            overdue=overdue,
            policy_version=s.policy_version,
            probation_required=s.probation_required,
            opened_on=s.opened_on,
            **self._awaited_columns(),
        )

    def _awaited_columns(self) -> dict[str, Any]:
        """The awaited step, its role and assignee as the listing shows them: the step the
        case waits on now (an input that ends a step is recorded before the next one starts,
        and the next step starts in its role's queue)."""
        now = self.awaited_step() if self.active else None
        if now is None or now.policy_step is None:
            return {}
        step = self.state.step
        assignee = step.assignee if step is not None and step.step == now.key else None
        return {
            "awaited_step": now.key,
            "awaited_role": now.responsible_role,
            "assignee": assignee,
        }

    if TYPE_CHECKING:

        def awaited_step(self) -> AwaitedStep | None: ...  # awaited
