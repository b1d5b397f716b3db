"""The codec endpoint: the Temporal Web UI (and the ``temporal`` CLI) read what the service
keeps in Temporal through it, encrypted as it is there (``gateway.payload_codec``).

It speaks the Temporal codec server protocol: ``POST /codec/decode`` and ``/codec/encode``
(also under the namespace, ``/codec/{namespace}/decode``, for the CLI's templated
``--codec-endpoint``) take ``{"payloads": [...]}`` in the protobuf JSON form and answer the
same, decoded or encoded by the codec of the service's own Temporal client. Without payload
keys it passes plain payloads through and refuses encrypted ones.

Only a signed-in person whose role may (``api.permissions``: auditors and administrators
decode, administrators encode) gets an answer: the console's session cookie (the UI's
"Include cross-origin credentials", in the browser where the person signed in to the
console) or an API token (``Authorization: Bearer``, e.g. ``temporal --codec-auth``);
anyone else gets 401 or 403 and the UI keeps showing ciphertext. A browser page may call it
only from an origin in TEMPORAL_UI_ORIGINS (CORS, credentials allowed): a request that
names another origin is refused. A body that does not fit is 422, as everywhere in the API
(the protocol's "400" is any 4xx to its clients); a payload that does not decode is 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import Services, ServicesDep, caller, not_permitted
from api.errors import ApiError, problem
from api.limits import too_large_detail
from api.permissions import DECODE_PAYLOADS, ENCODE_PAYLOADS, allowed
from api.schemas import Problem
from gateway.payload_codec import is_encrypted
from gateway.payload_keys import PayloadKeyError
from store.account_models import Caller
from store.console_models import signed_in
from web.console.auth import COOKIE, MAX_KEY_LENGTH

PREFIX = "/codec"
MAX_BODY_BYTES = 16_000_000  # a batch of payloads near Temporal's 2 MB limit each, in base64
_bearer = HTTPBearer(auto_error=False, description="a token from `appointments accounts token`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"

router = APIRouter(prefix=PREFIX, tags=["codec"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem} for status in (400, 401, 403, 404, 413, 422, 503)
}


async def codec_caller(
    request: Request,
    parts: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The person asking: by API token if one is sent, else by the console's session."""
    if credentials is not None:
        return await caller(request, parts, credentials)
    key = request.cookies.get(COOKIE, "")
    if key and len(key) <= MAX_KEY_LENGTH and key.isascii():
        async with parts.sessions() as s:
            found = await signed_in(s, key)
        if found is not None:
            return found.caller
    raise ApiError(
        401,
        "请先在本浏览器中登录管理台，或在请求头中发送 Authorization: Bearer <令牌>",
        headers=_CHALLENGE,
        code="not_signed_in",
    )


def permit(action: str) -> Callable[..., Awaitable[Caller]]:
    async def check(who: Annotated[Caller, Depends(codec_caller)]) -> Caller:
        if not allowed(action, who.role):
            raise not_permitted(action, who)
        return who

    return check


async def _payloads(request: Request) -> list[Payload]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large()
    wrapper = Payloads()
    try:
        json_format.Parse(bytes(body), wrapper)
    except (json_format.ParseError, UnicodeDecodeError) as exc:
        raise ApiError(
            422,
            f'请求格式不对：应为 protobuf JSON 格式的 {{"payloads": [...]}}（{exc}）',
            code="malformed_payloads",
        ) from None
    return list(wrapper.payloads)


def too_large() -> ApiError:
    return ApiError(413, too_large_detail(MAX_BODY_BYTES))


def _check_namespace(request: Request, parts: Services, namespace: str | None) -> None:
    own = parts.settings.temporal_namespace
    for asked in (namespace, request.headers.get("x-namespace")):
        if asked is not None and asked != own:
            raise ApiError(
                404,
                f"本解码服务只服务命名空间 {own!r}，不服务 {asked!r}",
                code="other_namespace",
            )


def _answer(payloads: list[Payload]) -> JSONResponse:
    body = json_format.MessageToDict(Payloads(payloads=payloads))
    # what was decoded is personal data: no cache keeps a copy
    return JSONResponse(
        {"payloads": body.get("payloads", [])}, headers={"Cache-Control": "no-store"}
    )


async def _decode(request: Request, parts: Services, namespace: str | None) -> JSONResponse:
    _check_namespace(request, parts, namespace)
    payloads = await _payloads(request)
    codec = parts.client.data_converter.payload_codec
    try:
        if codec is not None:
            return _answer(await codec.decode(payloads))
    except PayloadKeyError as exc:
        raise ApiError(400, str(exc), code="payload_key") from None
    if any(is_encrypted(p) for p in payloads):
        raise ApiError(
            400,
            "本服务没有可用于解密的载荷密钥（PAYLOAD_KEY_FILES）",
            code="no_payload_keys",
        )
    return _answer(payloads)


async def _encode(request: Request, parts: Services, namespace: str | None) -> JSONResponse:
    _check_namespace(request, parts, namespace)
    payloads = await _payloads(request)
    codec = parts.client.data_converter.payload_codec
    return _answer(payloads if codec is None else await codec.encode(payloads))


Decoder = Annotated[Caller, Depends(permit(DECODE_PAYLOADS))]
Encoder = Annotated[Caller, Depends(permit(ENCODE_PAYLOADS))]


@router.post("/decode", responses=RESPONSES, summary="Decode payloads (Temporal codec server)")
async def decode(request: Request, _: Decoder, parts: ServicesDep) -> JSONResponse:
    return await _decode(request, parts, None)


@router.post("/{namespace}/decode", responses=RESPONSES, summary="Decode payloads of the namespace")
async def decode_in(
    request: Request, _: Decoder, parts: ServicesDep, namespace: str
) -> JSONResponse:
    return await _decode(request, parts, namespace)


@router.post("/encode", responses=RESPONSES, summary="Encode payloads (Temporal codec server)")
async def encode(request: Request, _: Encoder, parts: ServicesDep) -> JSONResponse:
    return await _encode(request, parts, None)


@router.post(
    "/{namespace}/encode", responses=RESPONSES, summary="Encode payloads for the namespace"
)
async def encode_in(
    request: Request, _: Encoder, parts: ServicesDep, namespace: str
) -> JSONResponse:
    return await _encode(request, parts, namespace)


def install(app: FastAPI) -> None:
    """CORS for the codec endpoint: the Web UI's pages call it from their own origin."""

    @app.middleware("http")
    async def _cors(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith(PREFIX + "/"):
            return await call_next(request)
        origin = request.headers.get("origin")
        services: Services = request.app.state.services
        if origin is not None and origin.lower() not in services.settings.temporal_ui_origins:
            return problem(
                403,
                f"解码服务不答复来自 {origin} 的页面；"
                "请管理员在 TEMPORAL_UI_ORIGINS 中登记 Web UI 的来源",
                code="origin_not_allowed",
            )
        cors = (
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
                "Vary": "Origin",
            }
            if origin is not None
            else {}
        )
        if request.method == "OPTIONS":  # the browser's preflight, before each POST
            return Response(
                status_code=204,
                headers={
                    **cors,
                    "Access-Control-Allow-Methods": "POST, OPTIONS",
                    "Access-Control-Allow-Headers": _ALLOWED_HEADERS,
                    "Access-Control-Max-Age": "600",
                },
            )
        response = await call_next(request)
        response.headers.update(cors)
        return response
