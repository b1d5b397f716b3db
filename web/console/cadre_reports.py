"""The reports of a capability test campaign (how many passed, failed, passed the retest,
were handled by each option) and of a double evaluation (its ranking), as the console shows
them and as CSV or .xlsx, written by the reports page's own writers (``web.console.reports``).
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

from fastapi.responses import Response
from markupsafe import Markup

from api.cadre_calls import Campaign
from sheets.xlsx import CONTENT_TYPE as XLSX_TYPE
from web.console.reports import Report
from web.console.reports import _csv as report_csv
from web.console.reports import _xlsx as report_xlsx
from workflows.cadre_enums import RetestStatus
from workflows.double_evaluation_types import EvaluationState
from workflows.glossary import zh
from workflows.rules.cadre_capability import HandlingOption, Outcome

YES, NO = "是", "否"


def campaign_counts(found: Campaign) -> list[tuple[str, int]]:
    """(what, how many) of a campaign: its results, its retests, its handlings by option."""
    assert found.state is not None
    cadres = found.state.cadres
    first = Counter(c.outcome for c in cadres)
    status = Counter(r.status for r in found.retests.values())
    handled = Counter(r.handling.decision for r in found.retests.values() if r.handling is not None)
    retested = [r for r in found.retests.values() if r.retest is not None]
    rows = [
        ("参加测试", len(cadres)),
        (zh(Outcome.PASSED), first[Outcome.PASSED]),
        ("不合格", len(cadres) - first[Outcome.PASSED]),
        ("可列为后备干部", sum(1 for c in cadres if c.reserve)),
        (zh(RetestStatus.SELF_STUDY), status[RetestStatus.SELF_STUDY]),
        (zh(RetestStatus.AWAITING_RETEST), status[RetestStatus.AWAITING_RETEST]),
        ("已补测", len(retested)),
        (zh(RetestStatus.PASSED), status[RetestStatus.PASSED]),
        ("补测不合格", len(retested) - status[RetestStatus.PASSED]),
        (zh(RetestStatus.AWAITING_HANDLING), status[RetestStatus.AWAITING_HANDLING]),
    ]
    rows += [(f"组织处理：{zh(option)}", handled[option]) for option in HandlingOption]
    return rows


def campaign_report(found: Campaign) -> Report:
    assert found.state is not None
    return Report(
        name=f"capability-{found.state.campaign_id}",
        title=f"{found.state.title}统计",
        headers=("项目", "人数"),
        rows=list(campaign_counts(found)),
        chart=Markup(""),
    )


def ranking_report(state: EvaluationState) -> Report:
    """The ranking as the evaluation recorded it, with each proposal and its outcome."""
    return Report(
        name=f"evaluation-{state.evaluation_id}",
        title=f"{state.title}排队",
        headers=(
            "名次",
            "倒数名次",
            "人员编号",
            "姓名",
            "单位",
            "统一测评优秀率",
            "统一测评不称职率",
            "本单位测评优秀率",
            "本单位测评不称职率",
            "在末位",
            "建议降免职",
            "结果",
            "理由",
        ),
        rows=[
            (
                r.place,
                r.place_from_bottom,
                r.person_id,
                r.name,
                r.unit,
                r.unified_excellent,
                r.unified_incompetent,
                r.own_excellent,
                r.own_incompetent,
                YES if r.in_last_n else NO,
                YES if r.proposed else NO,
                state.outcomes.get(r.person_id, "").lstrip("："),
                r.reason,
            )
            for r in state.ranking
        ],
        chart=Markup(""),
    )


def download(report: Report, fmt: str) -> Response:
    """The report as a file: CSV (with a byte-order mark, for Excel) or .xlsx."""
    if fmt == "csv":
        data, media = report_csv(report), "text/csv; charset=utf-8"
    else:
        data, media = report_xlsx(report), XLSX_TYPE
    filename = quote(f"{report.title}.{fmt}")
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
