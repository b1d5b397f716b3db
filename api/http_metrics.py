"""Counting the web service's HTTP requests for Prometheus: how many, how long, by route.

A request is named by its route's template (``/cases/{case_id}``), never by its path: a path
holds case ids and people's ids, and every distinct path would be a series of its own. A
request no route matched is ``unmatched``; a method outside the usual ones is ``other``.
Each app has its own registry (``registry_of``), so two apps in one process (the tests) do
not count into each other.
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Mount
from starlette.types import Scope

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class HttpMetrics:
    """One count and one duration per answered request (``api.request_log.RequestLog`` times
    each request once and tells this)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "appointments_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "appointments_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            ["route", "method"],
            registry=registry,
        )

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope.get("method", "")
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route, method).observe(seconds)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (the router leaves it in the scope)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path or "/"


def install(app: FastAPI) -> HttpMetrics:
    """The counters of ``app``'s requests, in its own registry."""
    registry = CollectorRegistry(auto_describe=True)
    app.state.http_metrics_registry = registry
    return HttpMetrics(registry)


def registry_of(app: FastAPI) -> CollectorRegistry:
    registry: CollectorRegistry = app.state.http_metrics_registry
    return registry
