"""``/metrics``: the web service's state for Prometheus (text exposition format).

The HTTP request counts (``api.http_metrics``) and the gauges an operator watches, computed
at each scrape with a few SQL aggregates (``store.gauges``) and read from the outcomes of the
newest audit checks (``audit.last_checks``):

- ``appointments_cases_active{stage}``, ``appointments_cases_overdue{stage}``;
- ``appointments_cases_blocked_on_calendar``, ``appointments_probations_blocked_on_calendar``
  (a year the working-day calendar lacks: an administrator must add it);
- ``appointments_outbox_mail{status="pending"|"failed"}``;
- ``appointments_audit_checkpoint_age_seconds`` (absent: no checkpoint yet);
- ``appointments_audit_check_ok{check="verify"|"reconcile"}`` (1 passed, 0 found faults),
  ``appointments_audit_check_faults{check}`` and ``appointments_audit_check_timestamp_seconds
  {check}`` (absent: never run with this data folder);
- ``appointments_gauges_up``: 0 when the database could not be read (the gauges are then
  left out, the HTTP counts are still there).

Nothing names a case or a person. With METRICS_TOKEN set, only a request carrying it as
``Authorization: Bearer`` is answered (401 otherwise); unset, the endpoint is open, like the
health probes, for a scraper inside the deployment's own network.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Iterable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from api.errors import ApiError
from api.http_metrics import registry_of
from audit.last_checks import Check, CheckResult, last_checks
from store.gauges import Gauges, read_gauges

router = APIRouter(tags=["metrics"], include_in_schema=False)
log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
# the classic text format ``generate_latest`` writes, which every Prometheus version reads
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
GAUGES_TIMEOUT = 5.0  # seconds; a scrape's own timeout is longer (Prometheus: 10 s)


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request, parts: ServicesDep) -> Response:
    _authorize(request, parts.settings.metrics_token)
    gauges: Gauges | None = None
    try:
        async with asyncio.timeout(GAUGES_TIMEOUT), parts.sessions() as session:
            gauges = await read_gauges(session)
    except (SQLAlchemyError, OSError, TimeoutError) as e:
        log.warning("the gauges of /metrics cannot be read from the database: %s", type(e).__name__)
    checks = await asyncio.to_thread(last_checks, parts.settings.data_dir)
    body = generate_latest(registry_of(request.app)) + generate_latest(
        _Snapshot(list(_families(gauges, checks)))
    )
    return Response(body, media_type=TEXT_FORMAT, headers=NO_STORE)


def _authorize(request: Request, token: str | None) -> None:
    if token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
        raise ApiError(
            401,
            "/metrics 需要令牌：请在请求头中发送 Authorization: Bearer <METRICS_TOKEN 的值>",
            headers={"WWW-Authenticate": "Bearer"},
            code="no_metrics_token",
        )


class _Snapshot(Collector):
    """Metric families computed already: what ``generate_latest`` writes out."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self._families


def _families(
    gauges: Gauges | None, checks: dict[Check, CheckResult]
) -> Iterator[GaugeMetricFamily]:
    up = GaugeMetricFamily(
        "appointments_gauges_up", "1 if the gauges below could be read from the database"
    )
    up.add_metric([], 1 if gauges is not None else 0)
    yield up
    if gauges is not None:
        yield from _database_families(gauges)
    yield from _check_families(checks)


def _database_families(g: Gauges) -> Iterator[GaugeMetricFamily]:
    active = GaugeMetricFamily(
        "appointments_cases_active", "Active cases by stage", labels=["stage"]
    )
    overdue = GaugeMetricFamily(
        "appointments_cases_overdue",
        "Active cases whose awaited step is past its deadline, by stage",
        labels=["stage"],
    )
    for stage, n in g.active_by_stage.items():
        active.add_metric([stage.value], n)
        overdue.add_metric([stage.value], g.overdue_by_stage.get(stage, 0))
    yield active
    yield overdue
    yield GaugeMetricFamily(
        "appointments_cases_blocked_on_calendar",
        "Active cases waiting for a year the working-day calendar lacks",
        value=g.cases_blocked_on_calendar,
    )
    yield GaugeMetricFamily(
        "appointments_probations_blocked_on_calendar",
        "Probations whose review deadline waits for a year the working-day calendar lacks",
        value=g.probations_blocked_on_calendar,
    )
    outbox = GaugeMetricFamily(
        "appointments_outbox_mail", "Mail in the outbox by status", labels=["status"]
    )
    for status, n in g.outbox.items():
        outbox.add_metric([status], n)
    yield outbox
    if g.newest_checkpoint_age is not None:
        yield GaugeMetricFamily(
            "appointments_audit_checkpoint_age_seconds",
            "Seconds since the newest signed audit checkpoint",
            value=max(g.newest_checkpoint_age.total_seconds(), 0.0),
        )


def _check_families(checks: dict[Check, CheckResult]) -> Iterator[GaugeMetricFamily]:
    if not checks:
        return
    ok = GaugeMetricFamily(
        "appointments_audit_check_ok",
        "1 if the newest whole-log check passed, 0 if it found faults",
        labels=["check"],
    )
    faults = GaugeMetricFamily(
        "appointments_audit_check_faults",
        "Faults (verify) or differences (reconcile) the newest whole-log check found",
        labels=["check"],
    )
    when = GaugeMetricFamily(
        "appointments_audit_check_timestamp_seconds",
        "When the newest whole-log check finished (Unix time)",
        labels=["check"],
    )
    for check, result in checks.items():
        ok.add_metric([check], 1 if result.ok else 0)
        faults.add_metric([check], result.faults)
        when.add_metric([check], result.finished_at.timestamp())
    yield ok
    yield faults
    yield when
