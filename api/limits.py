"""The largest request body the API reads: anything larger is refused (413) before it is
parsed, whether it says its length or streams without one. The web pages under
``/console`` and ``/board`` read their forms with limits of their own (``web``), and the codec
endpoint its batches of payloads (``api.routers.codec``)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Above any input a case can take (``api.temporal.MAX_INPUT_BYTES``), with room for JSON.
MAX_BODY_BYTES = 2_000_000
OWN_LIMITS = ("/console", "/board", "/codec")


def too_large_detail(limit: int) -> str:
    return f"请求超过 {limit:,} 字节，已超出本服务能读取的上限；未作任何处理"


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(OWN_LIMITS) or _attachment_upload(path):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._refuse(send)
                return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)

    async def _refuse(self, send: Send) -> None:
        body = {"detail": too_large_detail(self.limit), "code": "too_large", "rule": ""}
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _attachment_upload(path: str) -> bool:
    """``/cases/{case_id}/attachments``: it reads its files with a limit of its own (the
    setting ``ATTACHMENT_MAX_BYTES``, ``api.routers.attachments``)."""
    parts = path.strip("/").split("/")
    return len(parts) == 3 and parts[0] == "cases" and parts[2] == "attachments"


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive that hands over ``messages`` first, then what ``then`` receives."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive
