"""Protocol-faithful fakes of the Zalo OA API (with its OAuth v4 token endpoint) and the Facebook Graph
API, served over real HTTP on loopback. They check what we send the way the real APIs do (headers,
token, body shape, windows, single-use refresh tokens) and answer with the real success and error shapes
(../shared/contracts/zalo-oa.md, facebook-page.md)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PAGE_ID = "107000000000001"
APP_ID = "3600000000000000001"
APP_SECRET = "zalo-app-secret"


@dataclass
class ZaloState:
    access_token: str = "zalo-access-1"
    refresh_token: str = "zalo-refresh-1"
    spent_refresh_tokens: set[str] = field(default_factory=set)
    silent_users: set[str] = field(default_factory=set)  # have not written in 7 days: -230
    sent: list[dict[str, Any]] = field(default_factory=list)
    refreshes: int = 0
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


@dataclass
class GraphState:
    page_token: str = "page-token"
    sent: list[dict[str, Any]] = field(default_factory=list)
    comment_replies: list[dict[str, Any]] = field(default_factory=list)
    rate_limited: bool = False
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def _graph_error(status: int, code: int, message: str, subcode: int | None = None) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Fake"}
    if subcode:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


def build_app(zalo: ZaloState, graph: GraphState) -> Starlette:
    async def zalo_cs(request: Request) -> JSONResponse:
        if request.headers.get("access_token") != zalo.access_token:
            return JSONResponse({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        user = (body.get("recipient") or {}).get("user_id")
        message = body.get("message") or {}
        if not isinstance(user, str) or not (message.get("text") or message.get("attachment")):
            return JSONResponse({"error": -201, "message": "Parameters are invalid"})
        if user in zalo.silent_users:
            return JSONResponse(
                {"error": -230, "message": "User has not interacted with the OA in the last 7 days"}
            )
        zalo.sent.append(body)
        message_id = f"zmsg{next(zalo.counter)}"
        return JSONResponse(
            {"error": 0, "message": "Success", "data": {"message_id": message_id, "user_id": user}}
        )

    async def zalo_upload(request: Request) -> JSONResponse:
        if request.headers.get("access_token") != zalo.access_token:
            return JSONResponse({"error": -216, "message": "Access token is invalid"})
        form = await request.form()
        if "file" not in form:
            return JSONResponse({"error": -201, "message": "Parameters are invalid"})
        return JSONResponse(
            {"error": 0, "message": "Success", "data": {"attachment_id": f"att{next(zalo.counter)}"}}
        )

    async def zalo_token(request: Request) -> JSONResponse:
        form = await request.form()
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return JSONResponse(
                {"error": -14002, "error_name": "Invalid app", "error_description": "bad secret"}
            )
        given = form.get("refresh_token")
        if form.get("grant_type") != "refresh_token" or given != zalo.refresh_token:
            return JSONResponse(
                {
                    "error": -14014,
                    "error_name": "Invalid refresh token",
                    "error_description": "refresh token used",
                }
            )
        time.sleep(0.2)  # a real round trip: long enough for a second worker to try at the same time
        zalo.spent_refresh_tokens.add(zalo.refresh_token)
        zalo.refreshes += 1
        zalo.access_token = f"zalo-access-{zalo.refreshes + 1}"
        zalo.refresh_token = f"zalo-refresh-{zalo.refreshes + 1}"
        return JSONResponse(
            {"access_token": zalo.access_token, "refresh_token": zalo.refresh_token, "expires_in": "90000"}
        )

    async def graph_messages(request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != graph.page_token:
            return _graph_error(400, 190, "Error validating access token: Session has expired")
        if graph.rate_limited:
            return _graph_error(400, 613, "Calls to this api have exceeded the rate limit.")
        body = await request.json()
        recipient = body.get("recipient") or {}
        text = (body.get("message") or {}).get("text") or ""
        if len(text) >= 2000:
            return _graph_error(400, 100, "(#100) Length of param message[text] must be less than 2000")
        if "comment_id" in recipient:
            graph.sent.append(body)
            return JSONResponse(
                {"recipient_id": "psid-from-comment", "message_id": f"m_{next(graph.counter)}"}
            )
        if body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") != "HUMAN_AGENT":
            return _graph_error(400, 100, "(#100) Invalid tag")
        if body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return _graph_error(400, 100, "(#100) messaging_type is required")
        if recipient.get("id") == "closed-window-psid":
            return _graph_error(400, 10, "(#10) This message is sent outside of allowed window.", 2018278)
        graph.sent.append(body)
        return JSONResponse({"recipient_id": recipient.get("id"), "message_id": f"m_{next(graph.counter)}"})

    async def graph_comment_reply(request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != graph.page_token:
            return _graph_error(400, 190, "Error validating access token")
        body = await request.json()
        graph.comment_replies.append({"comment_id": request.path_params["comment_id"], **body})
        return JSONResponse({"id": f"{request.path_params['comment_id']}_{next(graph.counter)}"})

    return Starlette(
        routes=[
            Route("/zalo/v3.0/oa/message/cs", zalo_cs, methods=["POST"]),
            Route("/zalo/v2.0/oa/upload/image", zalo_upload, methods=["POST"]),
            Route("/zalo-oauth/v4/oa/access_token", zalo_token, methods=["POST"]),
            Route(f"/graph/{PAGE_ID}/messages", graph_messages, methods=["POST"]),
            Route("/graph/{comment_id}/comments", graph_comment_reply, methods=["POST"]),
        ]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a loopback port for the duration; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
