"""A local Slack: enough of the Web API and of incoming webhooks for slack_sdk.

Incident delivery is tested against real HTTP with the real client, so what the tests
assert on is what Slack would have received: every message (channel, text, blocks,
thread), every update of a message, and the raw request bodies (`requests`) for checking
that no secret ever leaves the process. "Slack is down" is the base's fault injection
(`fail_always("/api/", Fault.status(500))`) or `stop()` and `start(port)` on the same port;
"Slack took it but the answer was lost" is `cut_next_reply` (the call is carried out, its
answer cut off mid-body). `conversations.history` and `conversations.list` are served so a
sender can look up what it may have posted; message `ts` values follow the wall clock, as
Slack's do, so a lookup by time (`oldest`) finds what it should.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from stand_ins.base import Fault, Request, Response, StandIn

HISTORY_PAGE = 100  # conversations.history's default page size


@dataclass
class SlackMessage:
    """A message as the channel shows it now (updates applied), plus what produced it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    via: str = "chat.postMessage"  # or "webhook"
    updates: int = 0
    metadata: dict[str, Any] | None = None  # chat.postMessage's `metadata`, as sent


class SlackServer(StandIn):
    def __init__(
        self,
        token: str = "xoxb-ddrc-test-token",
        webhook_path: str = "/services/T000/B000/XXXX",
    ) -> None:
        super().__init__()
        self.token = token
        self.webhook_path = webhook_path
        self.messages: list[SlackMessage] = []  # in posting order
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (API method, parameters)
        self._channels: dict[str, str] = {}  # channel name -> id
        self._last_ts = 0.0
        self._state = threading.Lock()

    @property
    def api_url(self) -> str:
        """The `base_url` for `slack_sdk.WebClient`."""
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{self.webhook_path}"

    # -- assertions ------------------------------------------------------------------
    def parents(self) -> list[SlackMessage]:
        return [m for m in self.messages if m.thread_ts is None]

    def replies(self, ts: str) -> list[SlackMessage]:
        return [m for m in self.messages if m.thread_ts == ts]

    def message(self, ts: str) -> SlackMessage:
        return next(m for m in self.messages if m.ts == ts)

    # -- faults ----------------------------------------------------------------------
    def cut_next_reply(self, method: str = "chat.postMessage", after_bytes: int = 20) -> None:
        """Carry out the next call of `method`, then cut its answer off after `after_bytes`
        bytes of the body (0: right after the headers): the sender cannot know it worked."""
        self.fail_next(f"/api/{method}", Fault.dropped(after_bytes))

    # -- protocol --------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path == self.webhook_path:
            return self._webhook(request)
        if not request.path.startswith("/api/"):
            return Response(404, b"not found")
        method = request.path.removeprefix("/api/")
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response.json({"ok": False, "error": "invalid_auth"})
        params = self._params(request)
        with self._state:
            self.calls.append((method, params))
            match method:
                case "auth.test":
                    return Response.json(
                        {
                            "ok": True,
                            "url": f"{self.url}/",
                            "team": "DDRC",
                            "user": "ddrc-incidents",
                            "team_id": "T000",
                            "user_id": "U000BOT",
                            "bot_id": "B000",
                        }
                    )
                case "chat.postMessage":
                    return self._post(params)
                case "chat.update":
                    return self._update(params)
                case "conversations.history":
                    return self._history(params)
                case "conversations.list":
                    channels = [
                        {"id": cid, "name": name, "is_archived": False}
                        for name, cid in self._channels.items()
                    ]
                    return Response.json({"ok": True, "channels": channels})
        return Response.json({"ok": False, "error": "unknown_method"})

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        """slack_sdk sends JSON for chat.*; other clients send forms with JSON-encoded blocks."""
        if "json" in request.headers.get("content-type", ""):
            return request.json() or {}
        params: dict[str, Any] = dict(request.query)
        for name in ("blocks", "metadata"):
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        return params

    def _next_ts(self) -> str:
        """Seconds since the epoch, unique and increasing, as Slack's message ids are."""
        self._last_ts = max(round(time.time(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    def _channel_id(self, channel: str) -> str:
        if channel in self._channels.values():
            return channel
        name = channel.lstrip("#")
        return self._channels.setdefault(name, f"C{len(self._channels) + 1:08d}")

    def _post(self, params: dict[str, Any]) -> Response:
        if not params.get("channel"):
            return Response.json({"ok": False, "error": "channel_not_found"})
        if not params.get("text") and not params.get("blocks"):
            return Response.json({"ok": False, "error": "no_text"})
        message = SlackMessage(
            channel=self._channel_id(params["channel"]),
            ts=self._next_ts(),
            text=params.get("text", ""),
            blocks=params.get("blocks") or [],
            thread_ts=params.get("thread_ts"),
            metadata=params.get("metadata"),
        )
        self.messages.append(message)
        return Response.json(
            {
                "ok": True,
                "channel": message.channel,
                "ts": message.ts,
                "message": {"type": "message", "text": message.text, "ts": message.ts},
            }
        )

    def _update(self, params: dict[str, Any]) -> Response:
        if params.get("channel") not in self._channels.values():
            return Response.json({"ok": False, "error": "channel_not_found"})
        found = [
            m for m in self.messages if m.channel == params["channel"] and m.ts == params.get("ts")
        ]
        if not found:
            return Response.json({"ok": False, "error": "message_not_found"})
        message = found[0]
        message.text = params.get("text", message.text)
        message.blocks = params.get("blocks") or message.blocks
        message.updates += 1
        return Response.json(
            {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}
        )

    def _history(self, params: dict[str, Any]) -> Response:
        """The channel's top-level messages newer than `oldest`, newest first, paged by a
        cursor; metadata only when asked for (`include_all_metadata`), as Slack does."""
        if params.get("channel") not in self._channels.values():
            return Response.json({"ok": False, "error": "channel_not_found"})
        oldest = float(params.get("oldest") or 0)
        found = [
            m
            for m in reversed(self.messages)
            if m.channel == params["channel"] and m.thread_ts is None and float(m.ts) > oldest
        ]
        start = int(params.get("cursor") or 0)
        end = start + int(params.get("limit") or HISTORY_PAGE)
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        page = [
            {"type": "message", "ts": m.ts, "text": m.text}
            | ({"metadata": m.metadata} if with_metadata and m.metadata else {})
            for m in found[start:end]
        ]
        more = {"next_cursor": str(end) if end < len(found) else ""}
        return Response.json(
            {"ok": True, "messages": page, "has_more": end < len(found), "response_metadata": more}
        )

    def _webhook(self, request: Request) -> Response:
        try:
            payload = request.json()
        except ValueError:
            return Response(400, b"invalid_payload", {"Content-Type": "text/html"})
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return Response(400, b"no_text", {"Content-Type": "text/html"})
        with self._state:
            self.messages.append(
                SlackMessage(
                    channel="webhook",
                    ts=self._next_ts(),
                    text=payload.get("text", ""),
                    blocks=payload.get("blocks") or [],
                    via="webhook",
                )
            )
        return Response(200, b"ok", {"Content-Type": "text/html"})
