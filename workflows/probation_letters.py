"""The probation's letters (试用期函件): the subject and body of each mail it sends, in
Chinese, from its state, its dates written as ``workflows.glossary_dates`` writes them. Pure
functions, called by the probation workflow."""

from __future__ import annotations

from datetime import date

from workflows.glossary_dates import day_text
from workflows.probation_types import ProbationState
from workflows.types import Alarm


def letter(s: ProbationState, headline: str, *lines: str) -> str:
    """A mail body in Chinese: the headline, the probation's particulars, the request."""
    return "\n".join(
        [
            headline,
            "",
            f"案件编号：{s.case_id}",
            f"人员：{s.name}（{s.person_id}）",
            f"单位：{s.unit}",
            f"试任职务：{s.post}",
            f"试用期：{day_text(s.starts_on)} 至 {day_text(s.ends_on)}",
            *lines,
            "",
            "（本邮件由干部任用工作系统自动发送。）",
        ]
    )


def who(s: ProbationState) -> str:
    return f"{s.name}（{s.unit}{s.post}）"


def reminder_mail(s: ProbationState, days: int) -> tuple[str, str]:
    when = f"还有{days}天" if days else "今日届满"
    subject = f"试用期提醒：{who(s)}试用期将于 {day_text(s.ends_on)} 届满（{when}）"
    body = letter(
        s,
        f"{s.name}同志的试用期将于 {day_text(s.ends_on)} 届满（{when}），请及时组织试用期满考核。",
        f"到期日：{day_text(s.ends_on)}",
        f"考核可于 {day_text(s.review_opens_on)} 起进行。",
    )
    return subject, body


def review_alarm_mail(s: ProbationState, alarm: Alarm, due: date) -> tuple[str, str]:
    on, ends = day_text(due), day_text(s.ends_on)
    if alarm.kind == "reminder":
        subject = f"提醒：{who(s)}试用期考核将于 {on} 到期"
        headline = f"{s.name}同志的试用期已于 {ends} 届满，考核须于 {on} 前完成。"
    else:
        subject = f"督办（第{alarm.rung}级）：{who(s)}试用期考核已于 {on} 逾期"
        headline = f"{s.name}同志的试用期已于 {ends} 届满，考核应于 {on} 前完成，至今未完成。"
    return subject, letter(s, headline, f"到期日：{on}")


def formal_appointment_mail(s: ProbationState) -> tuple[str, str]:
    subject = f"正式任职：{who(s)}试用期满，考核胜任"
    body = letter(
        s,
        f"{s.name}同志试用期满，考核胜任，正式任职。"
        f"试用期计入任职时间（自 {day_text(s.starts_on)} 起）。",
    )
    return subject, body
