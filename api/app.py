"""The HTTP API's application: ``create_app(settings, client, session_factory)``.

The caller owns the Temporal client and the database engine (and closes them); the app only
uses them. Accounts and tokens are made on the command line (``appointments accounts``).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client

from api import errors, http_metrics
from api.deps import Services
from api.limits import BodyLimit
from api.request_log import RequestLog
from api.routers import attachments as attachment_routes
from api.routers import audit, cases, codec, health, informants, probation, reads, steps
from api.routers import cadre as cadre_routes
from api.routers import extension_requests as extension_routes
from api.routers import metrics as metrics_route
from api.routers import register as register_routes
from api.routers import rotation_batch as rotation_batch_routes
from settings import Settings
from web import install as install_web
from web import is_page, malformed_page


async def _malformed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if is_page(request):  # a person at a browser gets a page, not JSON
        return malformed_page(request)
    return errors.malformed(exc.errors())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # a body that is not even JSON: malformed like any other
        return errors.unreadable(str(exc.detail))
    if exc.status_code < 400:
        return await http_exception_handler(request, exc)
    return errors.http_problem(exc.status_code, str(exc.detail), exc.headers)


def create_app(
    settings: Settings, client: Client, session_factory: async_sessionmaker[AsyncSession]
) -> FastAPI:
    app = FastAPI(
        # the interactive docs pages load their scripts from a CDN: the service serves none
        docs_url=None,
        redoc_url=None,
        title="Cadre appointments",
        version="1",
        description=(
            "Cadre-appointment cases (干部选拔任用). Every request carries "
            "`Authorization: Bearer <token>`; the token's account is recorded as the actor "
            "of every change."
        ),
    )
    app.state.services = Services(settings, client, session_factory)
    errors.install(app)
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(health.router)  # unauthenticated probes
    app.include_router(metrics_route.router)  # Prometheus; METRICS_TOKEN when set
    app.include_router(cases.router)
    app.include_router(steps.router)
    app.include_router(reads.router)
    app.include_router(probation.router)
    app.include_router(audit.router)
    app.include_router(codec.router)
    app.include_router(informants.router)
    app.include_router(attachment_routes.router)
    app.include_router(extension_routes.router)
    app.include_router(register_routes.router)
    app.include_router(rotation_batch_routes.router)
    app.include_router(cadre_routes.router)
    codec.install(app)  # inside the pages' security headers, which every answer carries
    install_web(app)
    app.add_middleware(BodyLimit)
    # outermost: it sees every answer, the refusals too, logs it and counts it by route
    app.add_middleware(RequestLog, observe=http_metrics.install(app).observe)
    return app
