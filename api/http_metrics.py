"""Counting the web service's HTTP requests for Prometheus: how many, how long, by route.

A request is named by its route's template (``/cases/{case_id}``), never by its path: a path
holds case ids and people's ids, and every distinct path would be a series of its own. A
request no route matched is ``unmatched``; a method outside the usual ones is ``other``.
Each app has its own registry (``registry_of``), so two apps in one process (the tests) do
not count into each other.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class HttpMetrics:
    """ASGI middleware: one count and one duration per request, after it is answered."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless an answer starts
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            route = route_template(scope)
            method = scope.get("method", "")
            method = method if method in METHODS else "other"
            self.requests.labels(route, method, str(status)).inc()
            self.duration.labels(route, method).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (the router leaves it in the scope)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path or "/"


def install(app: FastAPI) -> None:
    """Count every request of ``app``, in its own registry."""
    registry = CollectorRegistry(auto_describe=True)
    app.state.http_metrics_registry = registry
    app.add_middleware(HttpMetrics, registry=registry)


def registry_of(app: FastAPI) -> CollectorRegistry:
    registry: CollectorRegistry = app.state.http_metrics_registry
    return registry
